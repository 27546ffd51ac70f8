package app

import (
	"context"
	"errors"

	"github.com/ticketing/ticketing/payments/domain"
)

// RefundPaymentHandler refunds a succeeded payment at the request of its
// buyer or an admin (Payment#refund): the money goes back through Stripe,
// and payment.refunded.v1 makes orders mark the order refunded and tickets
// release the ticket.
type RefundPaymentHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	source   Orders
	perms    Permissions
	refunder Refunder
}

// NewRefundPaymentHandler returns the use case; orders is the replica,
// source the orders service behind it.
func NewRefundPaymentHandler(payments domain.Repository, orders domain.OrderReplica, source Orders, perms Permissions, refunder Refunder) RefundPaymentHandler {
	return RefundPaymentHandler{payments: payments, orders: orders, source: source, perms: perms, refunder: refunder}
}

// Handle refunds payment id for userID. A payment that is not succeeded
// (pending, failed, or refunded already) is a conflict, and so is one whose
// order is not complete yet (domain.Order.RefundableOnRequest).
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
	if err := h.orderAllows(ctx, id); err != nil {
		return nil, err
	}
	return h.refunder.refund(ctx, id, true)
}

// orderAllows checks the order of a succeeded payment. The replica may lag
// behind an order that just completed: one it holds as created is asked of
// the orders service (with the caller's session) and stored, so a buyer
// who refunds the moment the order shows complete is not refused.
func (h RefundPaymentHandler) orderAllows(ctx context.Context, id string) error {
	p, err := h.payments.Get(ctx, id)
	if err != nil || p.Status() != domain.StatusSucceeded {
		return err // the refunder answers the payment's own status
	}
	o, err := h.orders.Get(ctx, p.OrderID())
	switch {
	case errors.Is(err, domain.ErrOrderNotFound):
		return nil
	case err != nil:
		return err
	case o.RefundableOnRequest() == nil:
		return nil
	}
	fresh, err := h.source.Order(ctx, o.ID)
	switch {
	case errors.Is(err, domain.ErrOrderNotFound):
		return o.RefundableOnRequest()
	case err != nil:
		return err
	}
	if _, err := h.orders.Apply(ctx, fresh); err != nil {
		return err
	}
	return fresh.RefundableOnRequest()
}
