package app

import (
	"context"

	"github.com/ticketing/ticketing/payments/domain"
)

// RefundPaymentHandler refunds a succeeded payment at the request of its
// buyer or an admin (Payment#refund): the money goes back through Stripe,
// and payment.refunded.v1 makes orders mark the order refunded and tickets
// release the ticket.
type RefundPaymentHandler struct {
	perms    Permissions
	refunder Refunder
}

// NewRefundPaymentHandler returns the use case.
func NewRefundPaymentHandler(perms Permissions, refunder Refunder) RefundPaymentHandler {
	return RefundPaymentHandler{perms: perms, refunder: refunder}
}

// Handle refunds payment id for userID. A payment that is not succeeded
// (pending, failed, or refunded already) is a conflict.
func (h RefundPaymentHandler) Handle(ctx context.Context, userID, id string) (*domain.Payment, error) {
	ok, err := h.perms.CanRefundPayment(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		visible, err := h.perms.CanViewPayment(ctx, userID, id)
		if err != nil {
			return nil, err
		}
		if visible {
			return nil, domain.ErrRefundForbidden
		}
		return nil, domain.ErrPaymentNotFound
	}
	return h.refunder.refund(ctx, id, true)
}
