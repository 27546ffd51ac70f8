package app

import (
	"context"

	"github.com/ticketing/ticketing/orders/domain"
)

// CancelOrder is a buyer's cancellation.
type CancelOrder struct {
	UserID  string
	OrderID string
}

// CancelOrderHandler cancels orders.
type CancelOrderHandler struct {
	orders domain.Repository
	perms  Permissions
}

// NewCancelOrderHandler returns the cancel-order use case.
func NewCancelOrderHandler(orders domain.Repository, perms Permissions) CancelOrderHandler {
	return CancelOrderHandler{orders: orders, perms: perms}
}

// Handle cancels the order if the caller may edit it (Order#edit: the
// buyer). One who may only view it (the seller, an admin) gets
// ErrNotOrderOwner; anyone else ErrOrderNotFound. Cancelling a cancelled
// order returns it unchanged; a complete or refunded one is a conflict.
// The cancellation frees the ticket (the active ticket id goes) and stores
// order.cancelled with it.
func (h CancelOrderHandler) Handle(ctx context.Context, cmd CancelOrder) (*domain.Order, error) {
	id, err := domain.ParseID("id", cmd.OrderID)
	if err != nil {
		return nil, err
	}
	allowed, err := h.perms.CanEditOrder(ctx, cmd.UserID, id)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, h.refusal(ctx, cmd.UserID, id)
	}
	return h.orders.Update(ctx, id, func(o *domain.Order) (bool, error) { return o.Cancel() })
}

func (h CancelOrderHandler) refusal(ctx context.Context, userID, id string) error {
	visible, err := h.perms.CanViewOrder(ctx, userID, id)
	switch {
	case err != nil:
		return err
	case visible:
		return domain.ErrNotOrderOwner
	default:
		return domain.ErrOrderNotFound
	}
}
