package app

import (
	"context"

	"github.com/ticketing/ticketing/orders/domain"
)

// GetOrder asks for one order.
type GetOrder struct {
	UserID  string
	OrderID string
}

// GetOrderHandler shows an order to whoever Keto lets view it.
type GetOrderHandler struct {
	orders domain.Repository
	perms  Permissions
}

// NewGetOrderHandler returns the get-order use case.
func NewGetOrderHandler(orders domain.Repository, perms Permissions) GetOrderHandler {
	return GetOrderHandler{orders: orders, perms: perms}
}

// Handle returns the order when the caller may view it (Order#view: buyer,
// seller, admin); anyone else gets ErrOrderNotFound, as for an unknown id,
// so that existence does not leak.
func (h GetOrderHandler) Handle(ctx context.Context, q GetOrder) (*domain.Order, error) {
	id, err := domain.ParseID("id", q.OrderID)
	if err != nil {
		return nil, err
	}
	allowed, err := h.perms.CanViewOrder(ctx, q.UserID, id)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, domain.ErrOrderNotFound
	}
	return h.orders.Get(ctx, id)
}
