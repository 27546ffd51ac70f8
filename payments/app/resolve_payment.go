package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
)

// ResolvePayment is an admin's decision about a payment held for review.
type ResolvePayment struct {
	UserID    string
	PaymentID string
	Action    domain.Resolution
}

// ResolvePaymentHandler lets an admin move a payment out of review: accept
// the money (the order completes if it is still active) or give it back
// through Stripe.
type ResolvePaymentHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	perms    Permissions
	refunder Refunder
	logger   *slog.Logger
	now      func() time.Time
}

// NewResolvePaymentHandler returns the use case.
func NewResolvePaymentHandler(payments domain.Repository, orders domain.OrderReplica, perms Permissions, refunder Refunder, logger *slog.Logger) ResolvePaymentHandler {
	return ResolvePaymentHandler{payments: payments, orders: orders, perms: perms, refunder: refunder, logger: logger, now: time.Now}
}

// Handle applies cmd. Only admins resolve: whoever else may view the
// payment (its buyer, its seller) is refused (403), anyone else may not
// know it exists (404). A payment not in review is a conflict. An accepted
// payment publishes payment.succeeded.v1, and is refunded at once if its
// order was cancelled meanwhile (the hold expired while it waited), as any
// late success is.
func (h ResolvePaymentHandler) Handle(ctx context.Context, cmd ResolvePayment) (*domain.Payment, error) {
	if err := requireAdmin(ctx, h.perms, cmd.UserID, cmd.PaymentID); err != nil {
		return nil, err
	}
	var (
		p   *domain.Payment
		err error
	)
	if cmd.Action == domain.ResolveRefund {
		p, err = h.refunder.refundReviewed(ctx, cmd.PaymentID, cmd.UserID, h.now())
	} else {
		p, err = h.payments.Update(ctx, cmd.PaymentID, func(p *domain.Payment) (bool, error) {
			return p.Resolve(domain.ResolveAccept, cmd.UserID, h.now())
		})
	}
	if err != nil {
		return nil, err
	}
	h.logger.InfoContext(ctx, "payment in review resolved", slog.String("payment_id", p.ID()), slog.String("order_id", p.OrderID()),
		slog.String("action", string(cmd.Action)), slog.String("admin", cmd.UserID), slog.String("status", string(p.Status())))
	return h.refunder.refundIfOrderCancelled(ctx, h.orders, p)
}

// requireAdmin lets admins through; a non-admin who may view the payment
// gets ErrResolveForbidden, anyone else ErrPaymentNotFound.
func requireAdmin(ctx context.Context, perms Permissions, userID, paymentID string) error {
	admin, err := perms.IsAdmin(ctx, userID)
	if err != nil || admin {
		return err
	}
	visible, err := perms.CanViewPayment(ctx, userID, paymentID)
	if err != nil {
		return err
	}
	if visible {
		return domain.ErrResolveForbidden
	}
	return domain.ErrPaymentNotFound
}
