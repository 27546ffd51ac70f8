package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ticketing/ticketing/payments/domain"
)

// Outcome says what a Stripe event did; the webhook answers it to Stripe
// (and to the developers' stand-in, cmd/stripe).
type Outcome string

// The outcomes of a Stripe event.
const (
	// OutcomeApplied: the event changed its payment.
	OutcomeApplied Outcome = "applied"
	// OutcomeDuplicate: the event was applied before; nothing changed.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeUnchanged: the event no longer fits its payment (a failure
	// after the success, say); nothing changed.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeIgnored: payments does not react to events of this type.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeUnmatched: no payment has the event's PaymentIntent.
	OutcomeUnmatched Outcome = "unmatched"
)

// HandleStripeEventHandler applies a verified Stripe webhook event to its
// payment, once per event id.
type HandleStripeEventHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	refunder Refunder
	logger   *slog.Logger
}

// NewHandleStripeEventHandler returns the use case.
func NewHandleStripeEventHandler(payments domain.Repository, orders domain.OrderReplica, refunder Refunder, logger *slog.Logger) HandleStripeEventHandler {
	return HandleStripeEventHandler{payments: payments, orders: orders, refunder: refunder, logger: logger}
}

// Handle applies e. The change and e's id are one write, so a redelivered
// event changes nothing. A payment that succeeds for a cancelled order is
// refunded at once (design §3); that check also runs for a redelivered
// success, so that Stripe's retry finishes a refund that failed. An error
// makes the webhook fail, and Stripe deliver the event again.
func (h HandleStripeEventHandler) Handle(ctx context.Context, e domain.StripeEvent) (Outcome, error) {
	log := h.logger.With(slog.String("stripe_event", e.ID), slog.String("type", string(e.Type)), slog.String("payment_intent", e.PaymentIntentID))
	if !e.Type.Handled() {
		log.InfoContext(ctx, "stripe event of a type payments does not handle; ignored")
		return OutcomeIgnored, nil
	}
	p, err := h.find(ctx, e)
	if errors.Is(err, domain.ErrPaymentNotFound) {
		log.WarnContext(ctx, "stripe event matches no payment; ignored", slog.String("order_id", e.OrderID))
		return OutcomeUnmatched, nil
	}
	if err != nil {
		return "", err
	}
	outcome := OutcomeUnchanged
	p, err = h.payments.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		if p.Applied(e.ID) {
			outcome = OutcomeDuplicate
			return false, nil
		}
		changed := p.ApplyStripeEvent(e)
		if changed {
			outcome = OutcomeApplied
		}
		return changed, nil
	})
	if err != nil {
		return "", err
	}
	log.InfoContext(ctx, "stripe event handled", slog.String("payment_id", p.ID()), slog.String("outcome", string(outcome)), slog.String("status", string(p.Status())))
	if e.Type == domain.IntentSucceeded {
		if err := h.refundIfOrderCancelled(ctx, p); err != nil {
			return "", err
		}
	}
	return outcome, nil
}

// find looks the payment up by its PaymentIntent, else by the order named
// in the intent's metadata (when the intent id was never stored); a payment
// found by order must not have another PaymentIntent, nor another id than
// the metadata's paymentId.
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
	p, err := h.payments.ByOrder(ctx, e.OrderID)
	if err != nil {
		return nil, err
	}
	if (p.StripeID() != "" && p.StripeID() != e.PaymentIntentID) || (e.PaymentID != "" && e.PaymentID != p.ID()) {
		return nil, domain.ErrPaymentNotFound
	}
	return p, nil
}

// refundIfOrderCancelled gives the money back when p succeeded for an
// order that is cancelled. The order.cancelled consumer makes the same
// check after updating the replica, so whichever of the two comes second
// sees the other's write.
func (h HandleStripeEventHandler) refundIfOrderCancelled(ctx context.Context, p *domain.Payment) error {
	if p.Status() != domain.StatusSucceeded {
		return nil
	}
	o, err := h.orders.Get(ctx, p.OrderID())
	if errors.Is(err, domain.ErrOrderNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !p.MustRefundFor(o) {
		return nil
	}
	h.logger.InfoContext(ctx, "payment succeeded for a cancelled order; refunding", slog.String("payment_id", p.ID()), slog.String("order_id", o.ID))
	_, err = h.refunder.refund(ctx, p.ID(), false)
	return err
}
