package app

import (
	"context"

	"github.com/ticketing/ticketing/orders/domain"
)

// ApplyTicketHandler keeps the ticket replica from ticket.created and
// ticket.updated.
type ApplyTicketHandler struct {
	tickets domain.TicketReplica
}

// NewApplyTicketHandler returns the replica use case.
func NewApplyTicketHandler(tickets domain.TicketReplica) ApplyTicketHandler {
	return ApplyTicketHandler{tickets: tickets}
}

// Handle stores t unless the replica holds the same or a newer version; it
// reports whether it stored it. Events carry the whole state, so any newer
// version applies, and duplicates and older ones change nothing.
func (h ApplyTicketHandler) Handle(ctx context.Context, t domain.Ticket) (bool, error) {
	return h.tickets.Apply(ctx, t)
}
