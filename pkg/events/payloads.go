package events

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/ticketing/ticketing/pkg/validation"
)

// Every payload carries the aggregate's whole current state and version, so
// a consumer can apply any newer version directly (apply-if-newer) and ignore
// duplicates and older ones.

// Ticket is the data of ticket.created.v1 and ticket.updated.v1.
type Ticket struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	// UserID is the seller's Kratos identity id.
	UserID string `json:"userId"`
	// Status is available, reserved or sold.
	Status string `json:"status"`
	// OrderID is the order holding the ticket while reserved or sold.
	OrderID string `json:"orderId,omitempty"`
	Version int64  `json:"version"`
}

// Validate implements Payload.
func (t *Ticket) Validate() error {
	return errors.Join(
		objectID("id", t.ID),
		required("title", t.Title),
		required("userId", t.UserID),
		oneOf("status", t.Status, "available", "reserved", "sold"),
		optionalObjectID("orderId", t.OrderID),
		nonNegative("price", t.Price),
		nonNegative("version", t.Version),
		currency(t.Currency),
	)
}

// ReservationRefusal is the data of ticket.reservation_refused.v1: the
// tickets service refused to reserve Ticket for the order at OrderVersion,
// for Reason. The ticket is as it is after the refusal (unchanged).
type ReservationRefusal struct {
	OrderID      string `json:"orderId"`
	OrderVersion int64  `json:"orderVersion"`
	Ticket       Ticket `json:"ticket"`
	// Reason is one of the Refusal* values.
	Reason string `json:"reason"`
}

// RefusalPriceChanged: the price or currency the order pinned is no longer
// the ticket's (the seller changed it before the order reached tickets).
const RefusalPriceChanged = "price_changed"

// Validate implements Payload.
func (r *ReservationRefusal) Validate() error {
	return errors.Join(
		objectID("orderId", r.OrderID),
		nonNegative("orderVersion", r.OrderVersion),
		r.Ticket.Validate(),
		oneOf("reason", r.Reason, RefusalPriceChanged),
	)
}

// OrderTicket is the ticket as the order saw it when it was created.
type OrderTicket struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	// UserID is the seller's identity id.
	UserID  string `json:"userId"`
	Version int64  `json:"version"`
}

// Order is the data of every order.* event.
type Order struct {
	ID string `json:"id"`
	// UserID is the buyer's identity id.
	UserID string `json:"userId"`
	// Status is created, cancelled, complete or refunded.
	Status    string      `json:"status"`
	ExpiresAt time.Time   `json:"expiresAt"`
	Ticket    OrderTicket `json:"ticket"`
	PaymentID string      `json:"paymentId,omitempty"`
	// CancelReason says why the system cancelled the order (for example
	// RefusalPriceChanged); empty when the buyer cancelled or the hold
	// window ended.
	CancelReason string `json:"cancelReason,omitempty"`
	Version      int64  `json:"version"`
}

// Validate implements Payload.
func (o *Order) Validate() error {
	return errors.Join(
		objectID("id", o.ID),
		required("userId", o.UserID),
		oneOf("status", o.Status, "created", "cancelled", "complete", "refunded"),
		objectID("ticket.id", o.Ticket.ID),
		required("ticket.userId", o.Ticket.UserID),
		nonNegative("ticket.price", o.Ticket.Price),
		currency(o.Ticket.Currency),
		optionalObjectID("paymentId", o.PaymentID),
		nonNegative("version", o.Version),
		when(o.ExpiresAt.IsZero(), "expiresAt: required"),
	)
}

// Expiration is the data of expiration.completed.v1: the hold window of
// the order has ended.
type Expiration struct {
	OrderID string `json:"orderId"`
}

// Validate implements Payload.
func (e *Expiration) Validate() error { return objectID("orderId", e.OrderID) }

// Payment is the data of every payment.* event.
type Payment struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
	// UserID is the buyer's identity id.
	UserID   string `json:"userId"`
	StripeID string `json:"stripeId,omitempty"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Status is pending, succeeded, failed or refunded.
	Status  string `json:"status"`
	Version int64  `json:"version"`
}

// Validate implements Payload.
func (p *Payment) Validate() error {
	return errors.Join(
		objectID("id", p.ID),
		objectID("orderId", p.OrderID),
		required("userId", p.UserID),
		nonNegative("amount", p.Amount),
		currency(p.Currency),
		oneOf("status", p.Status, "pending", "succeeded", "failed", "refunded"),
		nonNegative("version", p.Version),
	)
}

var (
	currencyPattern = regexp.MustCompile(`^[a-z]{3}$`)
)

func objectID(field, v string) error {
	return when(!validation.IsObjectID(v), field+": must be 24 lower-case hex digits")
}

func optionalObjectID(field, v string) error {
	if v == "" {
		return nil
	}
	return objectID(field, v)
}

func required(field, v string) error { return when(v == "", field+": required") }

func nonNegative(field string, v int64) error { return when(v < 0, field+": must be ≥ 0") }

func currency(v string) error {
	return when(!currencyPattern.MatchString(v), "currency: must be three lower-case letters")
}

func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s: %q is not one of %v", field, v, allowed)
}

func when(bad bool, msg string) error {
	if bad {
		return errors.New(msg)
	}
	return nil
}
