// Package domain holds the expiration service's one rule: an order's hold
// window ends at its expiresAt, unless the order is cancelled or completed
// first; when it ends, the service says so once (expiration.completed).
package domain

import (
	"context"
	"errors"
	"time"

	"github.com/ticketing/ticketing/pkg/validation"
)

// Timeout is the end of one order's hold window.
type Timeout struct {
	orderID   string
	expiresAt time.Time
}

// ErrInvalidTimeout is returned for an order id or time that cannot be
// scheduled.
var ErrInvalidTimeout = errors.New("invalid timeout")

// NewTimeout validates an order's hold window.
func NewTimeout(orderID string, expiresAt time.Time) (Timeout, error) {
	if !validation.IsObjectID(orderID) {
		return Timeout{}, errors.Join(ErrInvalidTimeout, errors.New("order id must be 24 lower-case hex digits"))
	}
	if expiresAt.IsZero() {
		return Timeout{}, errors.Join(ErrInvalidTimeout, errors.New("expiresAt is required"))
	}
	return Timeout{orderID: orderID, expiresAt: expiresAt.UTC()}, nil
}

// OrderID is the order whose hold ends.
func (t Timeout) OrderID() string { return t.orderID }

// ExpiresAt is when the hold ends.
func (t Timeout) ExpiresAt() time.Time { return t.expiresAt }

// Scheduler runs a timeout at its time, once per order, surviving restarts.
type Scheduler interface {
	// Schedule arranges for the timeout to fire; scheduling an order that is
	// already scheduled (or already fired) changes nothing and reports false.
	Schedule(ctx context.Context, t Timeout) (bool, error)
	// Unschedule removes an order's pending timeout; removing one that is
	// not pending is not an error.
	Unschedule(ctx context.Context, orderID string) error
}

// Expirations records that an order's hold window ended, together with its
// expiration.completed event, once per order.
type Expirations interface {
	// Record stores the expiry and its event; it reports false when the
	// order's expiry was already recorded.
	Record(ctx context.Context, orderID string, at time.Time, correlationID string) (bool, error)
}
