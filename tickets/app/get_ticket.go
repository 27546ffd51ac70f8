package app

import (
	"context"

	"github.com/ticketing/ticketing/tickets/domain"
)

// GetTicketHandler reads one ticket; anyone may, in any status.
type GetTicketHandler struct {
	tickets Tickets
	perms   Permissions
}

// NewGetTicketHandler returns the get-ticket use case.
func NewGetTicketHandler(tickets Tickets, perms Permissions) GetTicketHandler {
	return GetTicketHandler{tickets: tickets, perms: perms}
}

// GetTicket asks for a ticket by ViewerID ("" for an anonymous caller).
type GetTicket struct {
	TicketID string
	ViewerID string
}

// TicketView is a ticket as one caller may see it.
type TicketView struct {
	Ticket *domain.Ticket
	// ShowsOrder: the caller may learn which order holds the ticket (the
	// buyer's private data): its seller and admins (Keto Ticket#edit).
	ShowsOrder bool
}

// Handle returns the ticket: 400 for a malformed id, 404 for an unknown
// one. Keto is asked only when the answer matters: a ticket held by an
// order, read by a signed-in caller other than its seller.
func (h GetTicketHandler) Handle(ctx context.Context, q GetTicket) (TicketView, error) {
	if err := domain.ValidateID(q.TicketID); err != nil {
		return TicketView{}, err
	}
	t, err := h.tickets.Get(ctx, q.TicketID)
	if err != nil {
		return TicketView{}, err
	}
	view := TicketView{Ticket: t, ShowsOrder: q.ViewerID != "" && q.ViewerID == t.SellerID()}
	if !view.ShowsOrder && q.ViewerID != "" && t.OrderID() != "" {
		if view.ShowsOrder, err = h.perms.CanEditTicket(ctx, t.ID(), q.ViewerID); err != nil {
			return TicketView{}, err
		}
	}
	return view, nil
}
