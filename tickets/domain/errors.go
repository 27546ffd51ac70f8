package domain

import (
	"errors"
	"fmt"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// Errors a client can act on.
var (
	// ErrTicketNotFound: no ticket has this id.
	ErrTicketNotFound = apierr.NotFound("ticket_not_found", "no such ticket")
	// ErrTicketLocked: an order holds the ticket (reserved or sold), so
	// the seller can no longer change it.
	ErrTicketLocked = apierr.Conflict("ticket_locked", "the ticket is reserved or sold and can no longer be changed")
	// ErrNothingToChange: an edit named none of the fields.
	ErrNothingToChange = apierr.Invalid("nothing_to_change", "give at least one of title, price and currency")
)

// ErrNoChange, returned by a change, means there is nothing to write: the
// ticket already is in the state asked for (an idempotent redelivery, an
// older event, an edit to the same values).
var ErrNoChange = errors.New("ticket: no change")

// ErrHeldByAnotherOrder: an order event needs the ticket that another order
// still holds. It is transient — the other order's cancellation (or
// refund) has not been applied yet — so the event is to be retried later.
var ErrHeldByAnotherOrder = errors.New("ticket: held by another order")

// ErrSoldAtAnotherPrice: a completed order pinned a price the available
// ticket no longer has; the ticket is not sold (see Ticket.ApplyOrder).
var ErrSoldAtAnotherPrice = errors.New("ticket: order paid at another price")

var errNoSeller = apierr.Internal(errors.New("ticket: a ticket needs its seller's identity id"))

func errCorrupt(id, field string) error {
	return apierr.Internal(fmt.Errorf("ticket %s: stored %s is invalid", id, field))
}
