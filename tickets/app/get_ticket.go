package app

import (
	"context"

	"github.com/ticketing/ticketing/tickets/domain"
)

// GetTicketHandler reads one ticket; anyone may, in any status.
type GetTicketHandler struct {
	tickets Tickets
}

// NewGetTicketHandler returns the get-ticket use case.
func NewGetTicketHandler(tickets Tickets) GetTicketHandler {
	return GetTicketHandler{tickets: tickets}
}

// Handle returns the ticket with id: 400 for a malformed id, 404 for an
// unknown one.
func (h GetTicketHandler) Handle(ctx context.Context, id string) (*domain.Ticket, error) {
	if err := domain.ValidateID(id); err != nil {
		return nil, err
	}
	return h.tickets.Get(ctx, id)
}
