// Package domain holds the payments model: one payment per order, paid
// through a Stripe PaymentIntent, whose outcome arrives as Stripe webhook
// events applied once each; a succeeded payment may be refunded, and is
// refunded by payments itself when its order is cancelled.
package domain

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Status is where a payment is in its life: pending → succeeded | failed
// | review; failed → succeeded | review (the buyer retried the same
// PaymentIntent); succeeded → refunded | review; review → succeeded |
// refunded (an admin's decision, or Stripe's whole refund); a whole refund
// reported before the success it refunds ends a pending or failed payment
// refunded.
type Status string

// The payment statuses of the API (docs/architecture.md, "API conventions").
const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusRefunded  Status = "refunded"
	// StatusReview: Stripe reported money that does not match the payment
	// (too little, another currency, another order named, a partial
	// refund). The order is not completed by it; an admin accepts or
	// refunds it.
	StatusReview Status = "review"
)

// Statuses lists every status, for the admins' list filter.
var Statuses = []Status{StatusPending, StatusSucceeded, StatusFailed, StatusRefunded, StatusReview}

// maxRememberedEvents bounds the Stripe event ids a payment keeps: a
// payment sees a handful in its life, and Stripe redelivers an event for
// at most three days.
const maxRememberedEvents = 64

// Payment is a buyer's payment of one order.
type Payment struct {
	id           string
	orderID      string
	userID       string
	amount       int64
	currency     string
	stripeID     string
	clientSecret string
	status       Status
	createdAt    time.Time
	stripeEvents []string
	review       *Review
	version      int64
}

// NewPayment starts the payment with id of order o. The amount and currency
// are the order's; a free order (amount 0) is paid at once, without Stripe.
func NewPayment(id string, o Order, now time.Time) (*Payment, error) {
	switch {
	case !ValidID(id):
		return nil, errors.New("domain: payment id must be 24 lower-case hex digits")
	case !ValidID(o.ID) || o.BuyerID == "":
		return nil, errors.New("domain: a payment needs a known order and its buyer")
	case o.Amount < 0 || o.Currency == "":
		return nil, errors.New("domain: a payment needs the order's amount and currency")
	}
	if err := o.Payable(); err != nil {
		return nil, err
	}
	status := StatusPending
	if o.Amount == 0 {
		status = StatusSucceeded
	}
	return &Payment{
		id: id, orderID: o.ID, userID: o.BuyerID, amount: o.Amount, currency: o.Currency,
		status: status, createdAt: now.UTC().Truncate(time.Millisecond),
	}, nil
}

// RestorePayment rebuilds a stored payment; only repositories call it.
// review is nil unless the payment was ever held for review.
func RestorePayment(id, orderID, userID string, amount int64, currency, stripeID, clientSecret string,
	status Status, createdAt time.Time, stripeEvents []string, review *Review, version int64) *Payment {
	return &Payment{
		id: id, orderID: orderID, userID: userID, amount: amount, currency: currency,
		stripeID: stripeID, clientSecret: clientSecret, status: status,
		createdAt: createdAt.UTC(), stripeEvents: slices.Clone(stripeEvents), review: review.clone(), version: version,
	}
}

// ID is the payment's id (24 hex digits).
func (p *Payment) ID() string { return p.id }

// OrderID is the order paid.
func (p *Payment) OrderID() string { return p.orderID }

// UserID is the buyer's identity id.
func (p *Payment) UserID() string { return p.userID }

// Amount is what the buyer pays, in minor units.
func (p *Payment) Amount() int64 { return p.amount }

// Currency is the order's currency (three lower-case letters).
func (p *Payment) Currency() string { return p.currency }

// StripeID is the PaymentIntent's id, once Stripe created it.
func (p *Payment) StripeID() string { return p.stripeID }

// ClientSecret is the PaymentIntent's client secret, for the buyer only.
func (p *Payment) ClientSecret() string { return p.clientSecret }

// Status is the payment's status.
func (p *Payment) Status() Status { return p.status }

// CreatedAt is when the payment was started.
func (p *Payment) CreatedAt() time.Time { return p.createdAt }

// StripeEvents are the ids of the Stripe events applied, oldest first.
func (p *Payment) StripeEvents() []string { return slices.Clone(p.stripeEvents) }

// Review is the record of why the payment was held, and how an admin
// resolved it; nil if it never was held.
func (p *Payment) Review() *Review { return p.review.clone() }

// Version is 0 when created, +1 per change.
func (p *Payment) Version() int64 { return p.version }

// Free reports whether the payment needs no money moved (a free order).
func (p *Payment) Free() bool { return p.amount == 0 }

// NeedsIntent reports whether the payment still waits for its
// PaymentIntent: pending, not free, and no PaymentIntent stored yet.
func (p *Payment) NeedsIntent() bool {
	return p.status == StatusPending && !p.Free() && p.stripeID == ""
}

// AttachIntent stores the PaymentIntent Stripe created. It reports false,
// changing nothing, when one is stored already: the first one stays (a
// retry with the same idempotency key gets the same one from Stripe).
func (p *Payment) AttachIntent(stripeID, clientSecret string) bool {
	if p.stripeID != "" || stripeID == "" {
		return false
	}
	p.stripeID, p.clientSecret = stripeID, clientSecret
	p.version++
	return true
}

// ApplyStripeEvent applies a verified Stripe event about this payment and
// says what it did. Only an event about the payment's own PaymentIntent is
// looked at: one for a payment without a PaymentIntent (a free order, or
// one Stripe never answered) or for another PaymentIntent changes nothing,
// and never attaches its PaymentIntent. An event already applied changes
// nothing; so does one that no longer fits (a failure reported after the
// success, a refund of a payment that never succeeded). A success or a
// refund that does not match the payment (Mismatches) holds it for review
// instead of applying; a payment in review changes only by an admin's
// decision or Stripe's whole refund. The event's id is remembered with the
// change it causes, in the same write.
func (p *Payment) ApplyStripeEvent(e StripeEvent, now time.Time) Outcome {
	switch {
	case e.ID == "" || !e.Type.Handled():
		return OutcomeUnchanged
	case p.Applied(e.ID):
		return OutcomeDuplicate
	case p.stripeID == "":
		return OutcomeNoIntent
	case e.PaymentIntentID != p.stripeID:
		return OutcomeIntentMismatch
	}
	var to Status
	switch {
	case e.Type == IntentSucceeded && (p.status == StatusPending || p.status == StatusFailed):
		to = StatusSucceeded
	case e.Type == IntentFailed && p.status == StatusPending:
		to = StatusFailed
	case e.Type == ChargeRefunded && p.status != StatusRefunded:
		// Also before its success is reported: Stripe does not deliver in
		// order, and a refund implies a charge that succeeded. Refunded,
		// the payment ignores that late success.
		to = StatusRefunded
	default:
		return OutcomeUnchanged
	}
	if reasons := p.Mismatches(e); len(reasons) > 0 {
		if p.status == StatusReview {
			return OutcomeUnchanged // held already: its first record stays
		}
		p.review = &Review{Reasons: reasons, EventID: e.ID, Amount: e.Amount, Currency: e.Currency, HeldAt: now.UTC().Truncate(time.Millisecond)}
		to = StatusReview
	}
	p.remember(e.ID)
	p.change(to)
	if to == StatusReview {
		return OutcomeHeld
	}
	return OutcomeApplied
}

// Mismatches is the matching rule: what in e, an event about the payment's
// own PaymentIntent, differs from the payment. A success must have received
// at least the amount due, in the payment's currency (Stripe's currency
// codes are lower-case; the case is not a difference); a refund must give
// back the whole charge, at least the amount due, in that currency; the
// metadata, when set, must name this payment and its order. A failure moves
// no money, so only its PaymentIntent matters.
func (p *Payment) Mismatches(e StripeEvent) []Mismatch {
	if e.Type != IntentSucceeded && e.Type != ChargeRefunded {
		return nil
	}
	var out []Mismatch
	switch {
	case e.Type == IntentSucceeded && e.Amount < p.amount:
		out = append(out, MismatchAmount)
	case e.Type == ChargeRefunded && (e.Amount < p.amount || e.Amount < e.ChargeAmount):
		out = append(out, MismatchPartialRefund)
	}
	if !strings.EqualFold(e.Currency, p.currency) {
		out = append(out, MismatchCurrency)
	}
	if e.OrderID != "" && e.OrderID != p.orderID {
		out = append(out, MismatchOrder)
	}
	if e.PaymentID != "" && e.PaymentID != p.id {
		out = append(out, MismatchPayment)
	}
	return out
}

func (p *Payment) remember(eventID string) {
	p.stripeEvents = append(p.stripeEvents, eventID)
	if n := len(p.stripeEvents); n > maxRememberedEvents {
		p.stripeEvents = slices.Clone(p.stripeEvents[n-maxRememberedEvents:])
	}
}

// Applied reports whether the Stripe event with id was applied.
func (p *Payment) Applied(eventID string) bool {
	return slices.Contains(p.stripeEvents, eventID)
}

// CanRefund checks that the payment can be refunded: only a succeeded one.
// A payment in review is refunded through its resolution (an admin's).
func (p *Payment) CanRefund() error {
	switch p.status {
	case StatusSucceeded:
		return nil
	case StatusReview:
		return ErrPaymentInReview
	default:
		return ErrNotRefundable
	}
}

// Refund records that the money went back to the buyer: succeeded →
// refunded. It reports false for a payment already refunded (the refund
// was recorded meanwhile, e.g. from Stripe's charge.refunded).
func (p *Payment) Refund() (bool, error) {
	switch p.status {
	case StatusRefunded:
		return false, nil
	case StatusSucceeded:
		p.change(StatusRefunded)
		return true, nil
	default:
		return false, p.CanRefund()
	}
}

// MustRefundFor reports whether the payment has to be given back because
// of its order: it succeeded, and the order is cancelled (it expired or was
// cancelled before the money arrived). The order stays cancelled.
func (p *Payment) MustRefundFor(o Order) bool {
	return p.status == StatusSucceeded && o.ID == p.orderID && o.Cancelled()
}

// ClientSecretFor is the client secret as userID may see it: the buyer's
// own, "" for anyone else.
func (p *Payment) ClientSecretFor(userID string) string {
	if userID == "" || userID != p.userID {
		return ""
	}
	return p.clientSecret
}

func (p *Payment) change(to Status) {
	p.status = to
	p.version++
}
