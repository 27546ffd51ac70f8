package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ticketing/ticketing/payments/domain"
)

// ApplyOrderHandler keeps the order replica from order.* events, and refunds the
// payment of an order that is cancelled after its payment succeeded
// (docs/architecture.md, "Events": the order stays cancelled, the payment ends
// refunded).
type ApplyOrderHandler struct {
	orders   domain.OrderReplica
	payments domain.Repository
	refunder Refunder
	logger   *slog.Logger
}

// NewApplyOrderHandler returns the use case.
func NewApplyOrderHandler(orders domain.OrderReplica, payments domain.Repository, refunder Refunder, logger *slog.Logger) ApplyOrderHandler {
	return ApplyOrderHandler{orders: orders, payments: payments, refunder: refunder, logger: logger}
}

// Handle applies o if it is newer than the copy. For a cancelled order the
// refund check runs even when the copy was already cancelled: a redelivery
// after a failed Stripe call is how the refund is retried. An error has the
// event retried with backoff.
func (h ApplyOrderHandler) Handle(ctx context.Context, o domain.Order) error {
	applied, err := h.orders.Apply(ctx, o)
	if err != nil {
		return err
	}
	if !applied {
		h.logger.DebugContext(ctx, "order event not newer than the replica", slog.String("order_id", o.ID), slog.Int64("version", o.Version))
	}
	if !o.Cancelled() {
		return nil
	}
	p, err := h.payments.ByOrder(ctx, o.ID)
	if errors.Is(err, domain.ErrPaymentNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !p.MustRefundFor(o) {
		return nil
	}
	h.logger.InfoContext(ctx, "order cancelled after its payment succeeded; refunding", slog.String("payment_id", p.ID()), slog.String("order_id", o.ID))
	_, err = h.refunder.refund(ctx, p.ID(), false)
	return err
}
