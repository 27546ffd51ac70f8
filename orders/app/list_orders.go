package app

import (
	"context"

	"github.com/ticketing/ticketing/orders/domain"
)

// ListOrders asks for a page of the caller's orders: those they bought, or
// with RoleSeller those on their tickets.
type ListOrders = domain.ListQuery

// ListOrdersHandler lists orders.
type ListOrdersHandler struct {
	orders domain.Repository
}

// NewListOrdersHandler returns the list-orders use case.
func NewListOrdersHandler(orders domain.Repository) ListOrdersHandler {
	return ListOrdersHandler{orders: orders}
}

// Handle returns the page, newest first. The list is the caller's own by
// construction (filtered on their id), so it needs no permission check.
func (h ListOrdersHandler) Handle(ctx context.Context, q ListOrders) ([]*domain.Order, error) {
	return h.orders.List(ctx, q)
}
