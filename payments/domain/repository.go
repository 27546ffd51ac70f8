package domain

import (
	"context"
	"time"
)

// Repository stores payments. Every write of one payment is a single-
// document write carrying the events of its change (the outbox): a status
// change records payment.<status>.v1 with the payment's whole state.
type Repository interface {
	// NextID returns a fresh payment id (an ObjectId).
	NextID() string
	// Add inserts a new payment, flagged until its permissions are written
	// (GrantsDone), with payment.succeeded.v1 when it is born succeeded (a
	// free order). At most one payment exists per order: when the order
	// has one already, Add fails with ErrPaymentExists.
	Add(ctx context.Context, p *Payment) error
	// Get returns the payment with id, or ErrPaymentNotFound.
	Get(ctx context.Context, id string) (*Payment, error)
	// ByOrder returns the payment of order orderID, or ErrPaymentNotFound.
	ByOrder(ctx context.Context, orderID string) (*Payment, error)
	// ByStripeID returns the payment of a PaymentIntent, or
	// ErrPaymentNotFound.
	ByStripeID(ctx context.Context, stripeID string) (*Payment, error)
	// List returns up to q.Limit payments in status q.Status, newest
	// first, with ids below q.After when it is set (keyset pages).
	List(ctx context.Context, q ListQuery) ([]*Payment, error)
	// Update applies change to the current payment and stores the result
	// when change reports a change (serialized per payment,
	// version-filtered, retried on a concurrent write).
	Update(ctx context.Context, id string, change func(*Payment) (bool, error)) (*Payment, error)
	// GrantsPending returns up to limit payments created before cutoff
	// whose permissions may never have been written.
	GrantsPending(ctx context.Context, cutoff time.Time, limit int) ([]*Payment, error)
	// GrantsDone clears the payment's flag once its permissions are
	// written.
	GrantsDone(ctx context.Context, id string) error
}

// ListQuery asks for a page of payments in one status.
type ListQuery struct {
	Status Status
	Limit  int
	// After is the id of the last payment of the previous page; "" for the
	// first page.
	After string
}

// OrderReplica is payments' copy of the orders, kept from order.* events
// whatever their delivery order: a newer version always applies, a
// duplicate or an older one changes nothing.
type OrderReplica interface {
	// Apply stores o unless the copy is as new or newer; it reports whether
	// it stored o.
	Apply(ctx context.Context, o Order) (bool, error)
	// Get returns the copy of order id, or ErrOrderNotFound.
	Get(ctx context.Context, id string) (Order, error)
}
