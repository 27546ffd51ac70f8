package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/tickets/domain"
)

// grantTimeout bounds writing a new ticket's tuples and clearing its flag,
// which go on even if the client goes away, so that the repairer rarely
// has work.
const grantTimeout = 10 * time.Second

// CreateTicket is a seller's new listing, as the client sent it.
type CreateTicket struct {
	SellerID string
	Title    string
	// Price is nil when the client gave none.
	Price    *int64
	Currency string
}

// CreateTicketHandler lists new tickets.
type CreateTicketHandler struct {
	tickets     Tickets
	permissions Permissions
	newID       func() string
	logger      *slog.Logger
}

// NewCreateTicketHandler returns the create-ticket use case; newID makes
// ticket ids (ObjectIds).
func NewCreateTicketHandler(tickets Tickets, permissions Permissions, newID func() string, logger *slog.Logger) CreateTicketHandler {
	return CreateTicketHandler{tickets: tickets, permissions: permissions, newID: newID, logger: logger}
}

// Handle stores the ticket, then writes its permission tuples, then clears
// its "grants pending" flag — in this order, so that a crash or a Keto
// failure in between leaves a flagged ticket that RepairGrantsHandler
// completes, never a ticket nobody may edit, nor tuples without a ticket.
// The ticket is returned only once its tuples are written (read your
// writes: the seller may edit it at once); when Keto fails the error is
// returned (503) and the repairer finishes the ticket later.
func (h CreateTicketHandler) Handle(ctx context.Context, cmd CreateTicket) (*domain.Ticket, error) {
	t, err := domain.NewTicket(h.newID(), cmd.SellerID,
		domain.Listing{Title: cmd.Title, Price: cmd.Price, Currency: cmd.Currency}, now())
	if err != nil {
		return nil, err
	}
	if err := h.tickets.Add(ctx, t); err != nil {
		return nil, err
	}
	grantCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grantTimeout)
	defer cancel()
	if err := h.permissions.GrantTicket(grantCtx, t.ID(), t.SellerID()); err != nil {
		h.logger.WarnContext(ctx, "ticket stored without its permissions; the grants repairer will write them",
			slog.String("ticket_id", t.ID()), slog.String("error", err.Error()))
		return nil, err
	}
	if err := h.tickets.MarkGranted(grantCtx, t.ID()); err != nil {
		// The tuples exist: the ticket is usable. The repairer rewrites
		// them (harmless) and clears the flag.
		h.logger.WarnContext(ctx, "ticket's grants written but not marked; the grants repairer will mark them",
			slog.String("ticket_id", t.ID()), slog.String("error", err.Error()))
	}
	return t, nil
}
