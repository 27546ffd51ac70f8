package domain

import (
	"github.com/ticketing/ticketing/pkg/validation"
)

// OrderStatus is where an order is in its life (docs/architecture.md, "API
// conventions").
type OrderStatus string

// The order statuses payments tells apart.
const (
	OrderCreated   OrderStatus = "created"
	OrderCancelled OrderStatus = "cancelled"
	OrderComplete  OrderStatus = "complete"
	OrderRefunded  OrderStatus = "refunded"
)

// Order is payments' copy of an order, kept from the order.* events: what
// paying it needs (who buys, who sells, what it costs, whether it is still
// payable) and the version it was copied at.
type Order struct {
	ID       string
	BuyerID  string
	SellerID string
	Status   OrderStatus
	// Amount is the ticket's price as ordered, in minor units.
	Amount   int64
	Currency string
	Version  int64
}

// Payable reports whether a payment may be started for the order: only
// while it is created (not cancelled, expired, complete or refunded).
func (o Order) Payable() error {
	if o.Status != OrderCreated {
		return ErrOrderNotPayable
	}
	return nil
}

// RefundableOnRequest checks that a refund may be asked for a payment of
// the order: not while the order is created. A payment that succeeded
// before the tickets service reserved the ticket waits on the order, which
// completes with it on the reservation; a buyer who no longer wants the
// ticket cancels the order instead, and its payment is refunded (as for
// any cancelled order), so the buyer never has both the money and the
// ticket, nor a refunded payment on an order left holding its ticket.
func (o Order) RefundableOnRequest() error {
	if o.Status == OrderCreated {
		return ErrOrderNotComplete
	}
	return nil
}

// Cancelled reports whether the order is cancelled; that is final, so a
// payment that succeeds for it must be given back.
func (o Order) Cancelled() bool { return o.Status == OrderCancelled }

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
