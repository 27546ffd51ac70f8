package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ticketing/ticketing/tickets/domain"
)

// ApplyOrder is an order event for the ticket it holds.
type ApplyOrder struct {
	TicketID string
	Event    domain.OrderEvent
}

// ApplyOrderHandler applies order events to tickets.
type ApplyOrderHandler struct {
	tickets Tickets
	logger  *slog.Logger
}

// NewApplyOrderHandler returns the apply-order use case.
func NewApplyOrderHandler(tickets Tickets, logger *slog.Logger) ApplyOrderHandler {
	return ApplyOrderHandler{tickets: tickets, logger: logger}
}

// Handle applies the event in one conditional write of the ticket (see
// domain.Ticket.ApplyOrder): a duplicate or older event changes nothing
// and succeeds. domain.ErrHeldByAnotherOrder is returned for the caller to
// retry later. An event for a ticket that does not exist succeeds after a
// warning: tickets are created here before any order can name them, so
// such a ticket never appears and retrying would not help.
func (h ApplyOrderHandler) Handle(ctx context.Context, cmd ApplyOrder) error {
	_, err := h.tickets.Update(ctx, cmd.TicketID, func(t *domain.Ticket) error {
		return t.ApplyOrder(cmd.Event)
	})
	if errors.Is(err, domain.ErrTicketNotFound) {
		h.logger.WarnContext(ctx, "order event for an unknown ticket; ignored",
			slog.String("ticket_id", cmd.TicketID), slog.String("order_id", cmd.Event.OrderID),
			slog.String("order_event", cmd.Event.Kind.String()))
		return nil
	}
	return err
}
