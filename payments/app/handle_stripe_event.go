package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
)

// HandleStripeEventHandler applies a verified Stripe webhook event to its
// payment, once per event id.
type HandleStripeEventHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	refunder Refunder
	logger   *slog.Logger
	now      func() time.Time
}

// NewHandleStripeEventHandler returns the use case.
func NewHandleStripeEventHandler(payments domain.Repository, orders domain.OrderReplica, refunder Refunder, logger *slog.Logger) HandleStripeEventHandler {
	return HandleStripeEventHandler{payments: payments, orders: orders, refunder: refunder, logger: logger, now: time.Now}
}

// Handle applies e. The change and e's id are one write, so a redelivered event
// changes nothing. An event that does not match its payment holds it for review
// (logged with what differed); it publishes nothing, so nothing downstream takes
// it for a success. A payment that succeeds for a cancelled order is refunded at
// once (docs/architecture.md, "Events"); that check also runs for a redelivered
// success, so that Stripe's retry finishes a refund that failed. An error makes
// the webhook fail, and Stripe deliver the event again.
func (h HandleStripeEventHandler) Handle(ctx context.Context, e domain.StripeEvent) (domain.Outcome, error) {
	log := h.logger.With(slog.String("stripe_event", e.ID), slog.String("type", string(e.Type)), slog.String("payment_intent", e.PaymentIntentID))
	if !e.Type.Handled() {
		log.InfoContext(ctx, "stripe event of a type payments does not handle; ignored")
		return domain.OutcomeIgnored, nil
	}
	p, err := h.find(ctx, e)
	if errors.Is(err, domain.ErrPaymentNotFound) {
		log.WarnContext(ctx, "stripe event matches no payment; ignored", slog.String("order_id", e.OrderID))
		return domain.OutcomeUnmatched, nil
	}
	if err != nil {
		return "", err
	}
	var outcome domain.Outcome
	p, err = h.payments.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		outcome = p.ApplyStripeEvent(e, h.now())
		return outcome.Changed(), nil
	})
	if err != nil {
		return "", err
	}
	log = log.With(slog.String("payment_id", p.ID()), slog.String("order_id", p.OrderID()), slog.String("outcome", string(outcome)), slog.String("status", string(p.Status())))
	switch outcome {
	case domain.OutcomeHeld:
		log.WarnContext(ctx, "stripe event does not match its payment; held for review",
			slog.Any("mismatches", p.Review().Reasons),
			slog.Int64("amount_due", p.Amount()), slog.String("currency_due", p.Currency()),
			slog.Int64("amount_reported", e.Amount), slog.String("currency_reported", e.Currency),
			slog.String("metadata_order_id", e.OrderID), slog.String("metadata_payment_id", e.PaymentID))
	case domain.OutcomeNoIntent, domain.OutcomeIntentMismatch:
		log.WarnContext(ctx, "stripe event's PaymentIntent is not the one of the payment its metadata names; not applied",
			slog.String("payment_stripe_id", p.StripeID()))
	default:
		log.InfoContext(ctx, "stripe event handled")
	}
	if e.Type == domain.IntentSucceeded {
		if _, err := h.refunder.refundIfOrderCancelled(ctx, h.orders, p); err != nil {
			return "", err
		}
	}
	return outcome, nil
}

// find looks the payment up by its PaymentIntent, else by the order named
// in the intent's metadata. A payment found by order is one the event is
// not about (another PaymentIntent, or none stored): ApplyStripeEvent says
// so and changes nothing, and the outcome tells Stripe's sender why.
func (h HandleStripeEventHandler) find(ctx context.Context, e domain.StripeEvent) (*domain.Payment, error) {
	if e.PaymentIntentID != "" {
		p, err := h.payments.ByStripeID(ctx, e.PaymentIntentID)
		if !errors.Is(err, domain.ErrPaymentNotFound) {
			return p, err
		}
	}
	if !domain.ValidID(e.OrderID) {
		return nil, domain.ErrPaymentNotFound
	}
	return h.payments.ByOrder(ctx, e.OrderID)
}
