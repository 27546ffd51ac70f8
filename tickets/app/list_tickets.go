package app

import (
	"context"

	"github.com/ticketing/ticketing/tickets/domain"
)

// ListTickets asks for one page of tickets, newest first.
type ListTickets struct {
	// SellerID, when set, lists that seller's tickets in every status
	// (?mine=true); otherwise available tickets are listed.
	SellerID string
	// Title filters by a case-insensitive substring of the title.
	Title domain.TitleSearch
	// After is the id of the previous page's last ticket, or "".
	After string
	// Limit is the page size (the port bounds it, 1–100).
	Limit int
}

// TicketPage is one page of tickets; More says whether another follows.
type TicketPage struct {
	Tickets []*domain.Ticket
	More    bool
}

// ListTicketsHandler lists tickets.
type ListTicketsHandler struct {
	tickets Tickets
}

// NewListTicketsHandler returns the list-tickets use case.
func NewListTicketsHandler(tickets Tickets) ListTicketsHandler {
	return ListTicketsHandler{tickets: tickets}
}

// Handle returns the page. It asks the store for one ticket more than the
// page holds, so that a full last page is not followed by an empty one.
func (h ListTicketsHandler) Handle(ctx context.Context, q ListTickets) (TicketPage, error) {
	found, err := h.tickets.List(ctx, TicketFilter{SellerID: q.SellerID, Title: q.Title, After: q.After, Limit: q.Limit + 1})
	if err != nil {
		return TicketPage{}, err
	}
	if len(found) > q.Limit {
		return TicketPage{Tickets: found[:q.Limit], More: true}, nil
	}
	return TicketPage{Tickets: found}, nil
}
