package domain

import (
	"slices"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// Mismatch names what in a Stripe event differed from its payment; the
// reasons a payment is held for review.
type Mismatch string

// The differences the matching rule (Payment.Mismatches) tells apart.
const (
	// MismatchAmount: a success received less than the amount due.
	MismatchAmount Mismatch = "amount_below_due"
	// MismatchCurrency: the money is in another currency.
	MismatchCurrency Mismatch = "currency_mismatch"
	// MismatchOrder: the metadata names another order.
	MismatchOrder Mismatch = "order_mismatch"
	// MismatchPayment: the metadata names another payment.
	MismatchPayment Mismatch = "payment_mismatch"
	// MismatchPartialRefund: a refund gave back only part of the charge.
	MismatchPartialRefund Mismatch = "partial_refund"
)

// Resolution is an admin's decision about a payment in review.
type Resolution string

// The resolutions of a payment in review.
const (
	// ResolveAccept takes the money as payment: review → succeeded, and
	// payment.succeeded.v1 completes the order if it is still active (a
	// cancelled one is refunded, as for any late success).
	ResolveAccept Resolution = "accept"
	// ResolveRefund gives the money back through Stripe: review →
	// refunded.
	ResolveRefund Resolution = "refund"
)

// ParseResolution reads the action an admin sent in field.
func ParseResolution(field, raw string) (Resolution, error) {
	switch r := Resolution(raw); r {
	case ResolveAccept, ResolveRefund:
		return r, nil
	case "":
		return "", apierr.Validation(apierr.Field(field, "is required: accept or refund"))
	default:
		return "", apierr.Validation(apierr.Field(field, "must be accept or refund"))
	}
}

// ParseStatus reads a payment status a client sent in field.
func ParseStatus(field, raw string) (Status, error) {
	if s := Status(raw); slices.Contains(Statuses, s) {
		return s, nil
	}
	return "", apierr.Validation(apierr.Field(field, "must be one of pending, succeeded, failed, refunded, review"))
}

// Review is why a payment was held, and what an admin decided.
type Review struct {
	Reasons []Mismatch
	// EventID is the Stripe event that did not match; Amount and Currency
	// are what it reported (amount_received, or amount_refunded).
	EventID  string
	Amount   int64
	Currency string
	HeldAt   time.Time
	// Resolution, ResolvedBy (the admin's identity id) and ResolvedAt are
	// set once an admin decided.
	Resolution Resolution
	ResolvedBy string
	ResolvedAt time.Time
}

func (r *Review) clone() *Review {
	if r == nil {
		return nil
	}
	c := *r
	c.Reasons = slices.Clone(r.Reasons)
	return &c
}

// CanResolve checks that the payment waits for an admin's decision.
func (p *Payment) CanResolve() error {
	if p.status != StatusReview {
		return ErrNotInReview
	}
	return nil
}

// Resolve records admin by's decision: review → succeeded (accept) or
// refunded (refund, once Stripe gave the money back). A payment no longer
// in review is a conflict, except a refund already recorded (Stripe's
// charge.refunded came first), which changes nothing.
func (p *Payment) Resolve(r Resolution, by string, now time.Time) (bool, error) {
	if r == ResolveRefund && p.status == StatusRefunded {
		return false, nil
	}
	if err := p.CanResolve(); err != nil {
		return false, err
	}
	to := StatusSucceeded
	if r == ResolveRefund {
		to = StatusRefunded
	}
	if p.review == nil {
		p.review = &Review{}
	}
	p.review.Resolution, p.review.ResolvedBy, p.review.ResolvedAt = r, by, now.UTC().Truncate(time.Millisecond)
	p.change(to)
	return true, nil
}

// Outcome says what a Stripe event did; the webhook answers it to Stripe
// (and to the developers' stand-in, cmd/stripe).
type Outcome string

// The outcomes of a Stripe event.
const (
	// OutcomeApplied: the event changed its payment.
	OutcomeApplied Outcome = "applied"
	// OutcomeHeld: the event did not match its payment (Mismatches); the
	// payment is held for review, its order not completed.
	OutcomeHeld Outcome = "held_for_review"
	// OutcomeDuplicate: the event was applied before; nothing changed.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeUnchanged: the event no longer fits its payment (a failure
	// after the success, any event but a whole refund for a payment in
	// review); nothing changed.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeNoIntent: the payment found by the event's metadata has no
	// PaymentIntent (a free order, or Stripe's answer was never stored);
	// the event is not applied and its PaymentIntent not attached.
	OutcomeNoIntent Outcome = "no_payment_intent"
	// OutcomeIntentMismatch: the payment found by the event's metadata has
	// another PaymentIntent; the event is not applied.
	OutcomeIntentMismatch Outcome = "intent_mismatch"
	// OutcomeIgnored: payments does not react to events of this type.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeUnmatched: no payment has the event's PaymentIntent or the
	// order its metadata names.
	OutcomeUnmatched Outcome = "unmatched"
)

// Changed reports whether the outcome is a change of the payment to store.
func (o Outcome) Changed() bool { return o == OutcomeApplied || o == OutcomeHeld }
