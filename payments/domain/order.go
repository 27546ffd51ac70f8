package domain

import (
	"regexp"
	"strings"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// OrderStatus is where an order is in its life (design §2).
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

// Cancelled reports whether the order is cancelled; that is final, so a
// payment that succeeds for it must be given back.
func (o Order) Cancelled() bool { return o.Status == OrderCancelled }

var idPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// ValidID reports whether id is an ObjectId in its canonical form: 24
// lower-case hex digits.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// ParseID checks an id a client sent in field; upper-case hex digits are
// accepted and made lower-case. A missing one is "required".
func ParseID(field, raw string) (string, error) {
	if raw == "" {
		return "", apierr.Validation(apierr.Field(field, "is required"))
	}
	id := strings.ToLower(raw)
	if !ValidID(id) {
		return "", apierr.Validation(apierr.Field(field, "must be an id of 24 hex digits"))
	}
	return id, nil
}
