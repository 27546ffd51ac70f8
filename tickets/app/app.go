// Package app holds the tickets service's use cases, one per file. They
// speak domain types and depend on the narrow interfaces declared here,
// which the adapters implement.
package app

import (
	"context"
	"time"

	"github.com/ticketing/ticketing/tickets/domain"
)

// Application is the tickets service's use cases, as the ports call them.
type Application struct {
	CreateTicket CreateTicketHandler
	EditTicket   EditTicketHandler
	GetTicket    GetTicketHandler
	ListTickets  ListTicketsHandler
	ApplyOrder   ApplyOrderHandler
	RepairGrants RepairGrantsHandler
}

// Tickets is the ticket store as the use cases need it.
type Tickets interface {
	domain.Repository
	// MarkGranted records that a ticket's permission tuples are written:
	// Add stores every new ticket as "grants pending" until then. It
	// changes neither the ticket's version nor its events; marking twice
	// is harmless.
	MarkGranted(ctx context.Context, id string) error
	// PendingGrants returns up to limit tickets listed before listedBefore
	// whose grants are still pending (a crash or a Keto failure between
	// storing the ticket and writing its tuples).
	PendingGrants(ctx context.Context, listedBefore time.Time, limit int) ([]*domain.Ticket, error)
	// List returns tickets newest first (by id, descending) matching f.
	List(ctx context.Context, f TicketFilter) ([]*domain.Ticket, error)
}

// TicketFilter selects tickets for List.
type TicketFilter struct {
	// SellerID, when set, selects that seller's tickets in every status;
	// otherwise only available tickets are selected.
	SellerID string
	// Title, when set, selects titles containing it, case-insensitively.
	Title domain.TitleSearch
	// After, when set, selects ids below it (the next page of a keyset).
	After string
	// Limit is how many tickets to return at most.
	Limit int
}

// Permissions is Keto as the use cases need it.
type Permissions interface {
	// GrantTicket writes Ticket:<id>#owners@User:<seller> and
	// Ticket:<id>#admins@Group:admin#members in one call; writing them
	// again is harmless.
	GrantTicket(ctx context.Context, ticketID, sellerID string) error
	// CanEditTicket asks whether the user may edit the ticket
	// (Ticket#edit: its owner or an admin).
	CanEditTicket(ctx context.Context, ticketID, userID string) (bool, error)
}

// now is the clock of stored times: UTC, at the millisecond precision
// Mongo keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
