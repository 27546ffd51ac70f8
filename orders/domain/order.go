// Package domain holds the orders model: an order holds one ticket for its
// buyer from creation until it is cancelled, expires or is refunded, and at
// most one active order may hold a ticket.
package domain

import (
	"errors"
	"strconv"
	"time"

	"github.com/ticketing/ticketing/pkg/validation"
)

// Status is where an order is in its life.
type Status string

// The statuses of the API (docs/architecture.md, "API conventions"): created →
// complete (paid) or cancelled (by the buyer or when the hold window ends);
// complete → refunded.
const (
	StatusCreated   Status = "created"
	StatusCancelled Status = "cancelled"
	StatusComplete  Status = "complete"
	StatusRefunded  Status = "refunded"
)

// Active reports whether an order in this status holds its ticket: a
// created order reserves it, a complete one has bought it.
func (s Status) Active() bool { return s == StatusCreated || s == StatusComplete }

// TicketSnapshot is the ticket as the order saw it when it was created: the
// price the buyer pays is this one, whatever the seller changes later.
type TicketSnapshot struct {
	ID       string
	Title    string
	Price    int64
	Currency string
	SellerID string
	Version  int64
}

// Order is one buyer's order of one ticket.
type Order struct {
	id        string
	buyerID   string
	status    Status
	ticket    TicketSnapshot
	expiresAt time.Time
	createdAt time.Time
	paymentID string
	version   int64
	// reserved: the tickets service reserved the ticket for this order at
	// its pinned price. Only a reserved order completes.
	reserved bool
	// pendingPayment is a payment that succeeded before the reservation:
	// it completes the order once the ticket is reserved for it.
	pendingPayment string
	// refundedPayment is a payment refunded while the order was created
	// (before it completed): it never completes the order, whether its
	// success reaches orders before the refund or after.
	refundedPayment string
	// cancelReason says why the system cancelled the order (a refusal).
	cancelReason string
	// holdSlot is which of its buyer's hold slots the order occupies
	// while created (see HoldKey).
	holdSlot int
}

// State is an order's whole stored state, for repositories.
type State struct {
	ID, BuyerID          string
	Status               Status
	Ticket               TicketSnapshot
	ExpiresAt, CreatedAt time.Time
	PaymentID            string
	Version              int64
	Reserved             bool
	PendingPayment       string
	RefundedPayment      string
	CancelReason         string
	HoldSlot             int
}

// CancelReasonPriceChanged: the tickets service refused the order because
// the seller changed the price (or currency) before the order reached it.
const CancelReasonPriceChanged = "price_changed"

// NewOrder is a new order with id by buyerID of ticket t, held from now
// until now+window.
func NewOrder(id, buyerID string, t Ticket, now time.Time, window time.Duration) (*Order, error) {
	switch {
	case !ValidID(id):
		return nil, errors.New("domain: order id must be 24 lower-case hex digits")
	case buyerID == "":
		return nil, errors.New("domain: an order needs a buyer")
	case !ValidID(t.ID) || t.SellerID == "":
		return nil, errors.New("domain: an order needs a known ticket")
	case window <= 0:
		return nil, errors.New("domain: the hold window must be positive")
	}
	now = now.UTC().Truncate(time.Millisecond)
	return &Order{
		id:      id,
		buyerID: buyerID,
		status:  StatusCreated,
		ticket: TicketSnapshot{
			ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency, SellerID: t.SellerID, Version: t.Version,
		},
		expiresAt: now.Add(window),
		createdAt: now,
	}, nil
}

// RestoreOrder rebuilds a stored order; only repositories call it.
func RestoreOrder(s State) *Order {
	return &Order{
		id: s.ID, buyerID: s.BuyerID, status: s.Status, ticket: s.Ticket,
		expiresAt: s.ExpiresAt.UTC(), createdAt: s.CreatedAt.UTC(), paymentID: s.PaymentID, version: s.Version,
		reserved: s.Reserved, pendingPayment: s.PendingPayment, refundedPayment: s.RefundedPayment,
		cancelReason: s.CancelReason, holdSlot: s.HoldSlot,
	}
}

// State returns the order's whole state, for storing it.
func (o *Order) State() State {
	return State{
		ID: o.id, BuyerID: o.buyerID, Status: o.status, Ticket: o.ticket,
		ExpiresAt: o.expiresAt, CreatedAt: o.createdAt, PaymentID: o.paymentID, Version: o.version,
		Reserved: o.reserved, PendingPayment: o.pendingPayment, RefundedPayment: o.refundedPayment,
		CancelReason: o.cancelReason, HoldSlot: o.holdSlot,
	}
}

// ID is the order's id (24 hex digits).
func (o *Order) ID() string { return o.id }

// BuyerID is the buyer's identity id.
func (o *Order) BuyerID() string { return o.buyerID }

// Status is the order's status.
func (o *Order) Status() Status { return o.status }

// Ticket is the ticket as ordered.
func (o *Order) Ticket() TicketSnapshot { return o.ticket }

// ExpiresAt is when the hold window of a created order ends.
func (o *Order) ExpiresAt() time.Time { return o.expiresAt }

// CreatedAt is when the order was created.
func (o *Order) CreatedAt() time.Time { return o.createdAt }

// PaymentID is the payment that completed the order, once paid.
func (o *Order) PaymentID() string { return o.paymentID }

// Version is 0 when created, +1 per change.
func (o *Order) Version() int64 { return o.version }

// ActiveTicketID is the ticket id while the order holds its ticket (created
// or complete), else "". The store keeps it unique: it is the one-active-
// order-per-ticket rule.
func (o *Order) ActiveTicketID() string {
	if o.status.Active() {
		return o.ticket.ID
	}
	return ""
}

// Reserved reports whether the tickets service reserved the ticket for
// the order.
func (o *Order) Reserved() bool { return o.reserved }

// CancelReason says why the system cancelled the order; "" when the buyer
// cancelled it or its hold window ended.
func (o *Order) CancelReason() string { return o.cancelReason }

// HoldKey is the buyer's hold slot the order occupies while it is
// created ("<buyer>:<slot>"), else "". The store keeps it unique: a buyer
// has MaxHolds slots, so at most that many created orders.
func (o *Order) HoldKey() string {
	if o.status != StatusCreated {
		return ""
	}
	return o.buyerID + ":" + strconv.Itoa(o.holdSlot)
}

// UseHoldSlot makes a new order occupy the buyer's slot k (0 ≤ k); the
// repository tries the slots until one is free.
func (o *Order) UseHoldSlot(k int) { o.holdSlot = k }

// ConfirmReservation records that the tickets service reserved the ticket
// for the order. It changes only a created order not yet confirmed: a
// payment that succeeded before completes it now (version + 1); otherwise
// the version stays, it is bookkeeping no other service needs an event for.
func (o *Order) ConfirmReservation() bool {
	if o.status != StatusCreated || o.reserved {
		return false
	}
	o.reserved = true
	if o.pendingPayment != "" {
		o.paymentID = o.pendingPayment
		o.change(StatusComplete)
	}
	return true
}

// Refuse cancels a created order the tickets service refused to reserve
// the ticket for, with the reason. An order that is no longer created, or
// whose ticket was reserved for it, changes nothing.
func (o *Order) Refuse(reason string) bool {
	if o.status != StatusCreated || o.reserved {
		return false
	}
	o.cancelReason = reason
	o.change(StatusCancelled)
	return true
}

// Cancel is the buyer's cancellation: created → cancelled. Cancelling a
// cancelled order changes nothing (false); a complete or refunded order
// cannot be cancelled.
func (o *Order) Cancel() (bool, error) {
	switch o.status {
	case StatusCreated:
		o.change(StatusCancelled)
		return true, nil
	case StatusCancelled:
		return false, nil
	default:
		return false, ErrOrderNotCancellable
	}
}

// Expire ends the hold window: a created order is cancelled; any other
// changes nothing (a paid order stays paid).
func (o *Order) Expire() bool {
	if o.status != StatusCreated {
		return false
	}
	o.change(StatusCancelled)
	return true
}

// Complete records the payment that paid the order: only a created order
// whose ticket was reserved for it completes. A payment for an order no
// longer active changes nothing here; payments refunds it. For a created
// order not yet reserved the payment is kept (the version stays) and
// completes the order once the tickets service reserves the ticket
// (ConfirmReservation); if it refuses, the order is cancelled and payments
// refunds the payment. A second payment meanwhile changes nothing, and so
// does a payment already refunded (Refund).
func (o *Order) Complete(paymentID string) bool {
	switch {
	case o.status != StatusCreated || paymentID == "" || paymentID == o.refundedPayment:
		return false
	case !o.reserved:
		if o.pendingPayment != "" {
			return false
		}
		o.pendingPayment = paymentID
		return true
	}
	o.paymentID = paymentID
	o.change(StatusComplete)
	return true
}

// Refund records the refund of a payment of the order. The payment that
// completed it: complete → refunded (version + 1). A payment of a created
// order (one that succeeded before the reservation was confirmed, or whose
// success has not reached orders yet): the order forgets it and remembers
// it as refunded, so that neither the reservation nor its late success
// completes the order with money the buyer has back; the order keeps its
// hold, unpaid, and the version stays (no event: nothing changed for other
// services). Anything else (a payment that came too late for a cancelled
// order, a refund seen before) changes nothing.
func (o *Order) Refund(paymentID string) bool {
	switch {
	case paymentID == "":
		return false
	case o.status == StatusComplete && paymentID == o.paymentID:
		o.change(StatusRefunded)
		return true
	case o.status == StatusCreated && paymentID != o.refundedPayment:
		o.refundedPayment = paymentID
		if o.pendingPayment == paymentID {
			o.pendingPayment = ""
		}
		return true
	}
	return false
}

func (o *Order) change(to Status) {
	o.status = to
	o.version++
}

// ValidID reports whether id is well-formed by the id rule every service
// shares (validation.IsObjectID).
func ValidID(id string) bool { return validation.IsObjectID(id) }

// ParseID checks an id a client sent in field by the shared id rule
// (validation.ObjectID): a missing or malformed one, upper case included, is
// a 400 naming field.
func ParseID(field, raw string) (string, error) {
	if err := validation.ObjectID(field, raw); err != nil {
		return "", err
	}
	return raw, nil
}
