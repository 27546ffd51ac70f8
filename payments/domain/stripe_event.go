package domain

// StripeEventType is the type of a Stripe event payments reacts to.
type StripeEventType string

// The Stripe events the webhook applies (payments/README.md). Any other type is
// acknowledged and ignored.
const (
	IntentSucceeded StripeEventType = "payment_intent.succeeded"
	IntentFailed    StripeEventType = "payment_intent.payment_failed"
	ChargeRefunded  StripeEventType = "charge.refunded"
)

// Handled reports whether payments reacts to events of type t.
func (t StripeEventType) Handled() bool {
	return t == IntentSucceeded || t == IntentFailed || t == ChargeRefunded
}

// StripeEvent is what payments reads from a verified Stripe webhook event.
type StripeEvent struct {
	// ID is Stripe's event id (evt_…): each is applied once.
	ID   string
	Type StripeEventType
	// PaymentIntentID is the PaymentIntent the event is about: the object
	// itself for payment_intent.*, the charge's payment_intent for
	// charge.refunded.
	PaymentIntentID string
	// OrderID and PaymentID are the object's metadata.orderId and
	// metadata.paymentId, set when the PaymentIntent was created; they find
	// the payment when its PaymentIntent id was never stored (a crash
	// between Stripe's answer and the write).
	OrderID   string
	PaymentID string
	// Amount and Currency are the money the event reports:
	// amount_received for payment_intent.*, amount_refunded for
	// charge.refunded, in minor units.
	Amount   int64
	Currency string
	// ChargeAmount is the charge's amount (charge.refunded only): a refund
	// is whole when Amount reaches it.
	ChargeAmount int64
}
