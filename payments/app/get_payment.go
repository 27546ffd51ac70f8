package app

import (
	"context"

	"github.com/ticketing/ticketing/payments/domain"
)

// GetPaymentHandler reads a payment for whoever may view it (Payment#view:
// the buyer, the ticket's seller through the order, an admin); to anyone
// else it does not exist.
type GetPaymentHandler struct {
	payments domain.Repository
	perms    Permissions
}

// NewGetPaymentHandler returns the use case.
func NewGetPaymentHandler(payments domain.Repository, perms Permissions) GetPaymentHandler {
	return GetPaymentHandler{payments: payments, perms: perms}
}

// ByID returns payment id as userID may see it.
func (h GetPaymentHandler) ByID(ctx context.Context, userID, id string) (*domain.Payment, error) {
	if err := h.visible(ctx, userID, id); err != nil {
		return nil, err
	}
	return h.payments.Get(ctx, id)
}

// ByOrder returns the payment of order orderID as userID may see it.
func (h GetPaymentHandler) ByOrder(ctx context.Context, userID, orderID string) (*domain.Payment, error) {
	p, err := h.payments.ByOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if err := h.visible(ctx, userID, p.ID()); err != nil {
		return nil, err
	}
	return p, nil
}

func (h GetPaymentHandler) visible(ctx context.Context, userID, id string) error {
	ok, err := h.perms.CanViewPayment(ctx, userID, id)
	if err != nil {
		return err
	}
	if !ok {
		return domain.ErrPaymentNotFound
	}
	return nil
}
