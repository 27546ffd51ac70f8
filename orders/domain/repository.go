package domain

import (
	"context"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// Repository stores orders. Implementations enforce one active order per
// ticket with a unique key on ActiveTicketID, never with a read before the
// write, and store each change's event with the change.
type Repository interface {
	// NextID returns a new order id: 24 hex digits, rising with time, so
	// that newest first is by id.
	NextID() string
	// Add stores a new order with its grants pending (see GrantsDone),
	// occupying the first free one of its buyer's maxHolds hold slots
	// (Order.HoldKey, unique in the store). It fails with
	// ErrTicketUnavailable when another active order holds the ticket, and
	// with ErrTooManyHolds when every slot is taken; either way it writes
	// nothing.
	Add(ctx context.Context, o *Order, maxHolds int) error
	// Get returns the order with id, or ErrOrderNotFound.
	Get(ctx context.Context, id string) (*Order, error)
	// Update applies change to the stored order and stores the result when
	// change reports a change (it must go through the Order's transitions,
	// which raise the version). It returns the order as stored afterwards.
	// Updates of one order are serialized; change may run more than once.
	Update(ctx context.Context, id string, change func(*Order) (bool, error)) (*Order, error)
	// List returns up to q.Limit orders, newest first.
	List(ctx context.Context, q ListQuery) ([]*Order, error)
	// GrantsDone records that the order's permission tuples are written.
	GrantsDone(ctx context.Context, id string) error
	// GrantsPending returns up to limit orders created before cutoff whose
	// permission tuples may be missing.
	GrantsPending(ctx context.Context, cutoff time.Time, limit int) ([]*Order, error)
	// OverdueHolds returns up to limit created orders whose hold window
	// ended before cutoff.
	OverdueHolds(ctx context.Context, cutoff time.Time, limit int) ([]*Order, error)
}

// Role is the side of an order a list is for.
type Role string

// The roles of GET /api/orders?as=.
const (
	RoleBuyer  Role = "buyer"
	RoleSeller Role = "seller"
)

// ListQuery selects orders: those UserID bought (RoleBuyer) or those of
// UserID's tickets (RoleSeller), with ids below After when it is set.
type ListQuery struct {
	Role   Role
	UserID string
	Limit  int
	After  string
}

// TicketReplica is orders' copy of the tickets. Apply stores a ticket
// unless the copy holds the same or a newer version, so the copy converges
// on the newest whatever the delivery order.
type TicketReplica interface {
	// Apply stores t unless the copy is as new; it reports whether it did.
	Apply(ctx context.Context, t Ticket) (bool, error)
	// Get returns the copy of the ticket with id, or ErrTicketNotFound.
	Get(ctx context.Context, id string) (Ticket, error)
}

// Errors clients can act on.
var (
	ErrOrderNotFound       = apierr.NotFound("order_not_found", "no such order")
	ErrTicketNotFound      = apierr.NotFound("ticket_not_found", "no such ticket")
	ErrOwnTicket           = apierr.Forbidden("own_ticket", "sellers cannot order their own ticket")
	ErrTicketUnavailable   = apierr.Conflict("ticket_unavailable", "the ticket is reserved or sold")
	ErrOrderNotCancellable = apierr.Conflict("order_not_cancellable", "a complete or refunded order cannot be cancelled")
	ErrNotOrderOwner       = apierr.Forbidden("not_order_owner", "only the buyer may cancel an order")
	ErrTooManyHolds        = apierr.Conflict("too_many_holds", "you hold as many unpaid orders as allowed: pay for or cancel one first")
)
