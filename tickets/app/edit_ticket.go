package app

import (
	"context"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/tickets/domain"
)

// ErrNotTicketEditor: the caller may see the ticket but is neither its
// seller nor an admin.
var ErrNotTicketEditor = apierr.Forbidden("not_ticket_editor", "only the ticket's seller or an admin may change it")

// EditTicket is a change to a ticket's listing, as the client sent it; nil
// fields stay as they are.
type EditTicket struct {
	TicketID string
	UserID   string
	Title    *string
	Price    *int64
	Currency *string
}

// EditTicketHandler changes listings.
type EditTicketHandler struct {
	tickets     Tickets
	permissions Permissions
}

// NewEditTicketHandler returns the edit-ticket use case.
func NewEditTicketHandler(tickets Tickets, permissions Permissions) EditTicketHandler {
	return EditTicketHandler{tickets: tickets, permissions: permissions}
}

// Handle checks the input (400), that the ticket exists (404) and that Keto
// lets the caller edit it (403), then applies the change in one conditional
// write, where a ticket that an order holds is 409. An edit that changes
// nothing returns the ticket as it is.
func (h EditTicketHandler) Handle(ctx context.Context, cmd EditTicket) (*domain.Ticket, error) {
	if err := domain.ValidateID(cmd.TicketID); err != nil {
		return nil, err
	}
	changes, err := domain.NewChanges(cmd.Title, cmd.Price, cmd.Currency)
	if err != nil {
		return nil, err
	}
	if _, err := h.tickets.Get(ctx, cmd.TicketID); err != nil {
		return nil, err
	}
	allowed, err := h.permissions.CanEditTicket(ctx, cmd.TicketID, cmd.UserID)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, ErrNotTicketEditor
	}
	return h.tickets.Update(ctx, cmd.TicketID, func(t *domain.Ticket) error {
		return t.Edit(changes)
	})
}
