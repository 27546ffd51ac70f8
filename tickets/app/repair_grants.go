package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// RepairGrantsHandler finishes tickets whose permission tuples were not
// written: the process crashed, or Keto failed, between storing the ticket
// and writing its tuples (see CreateTicketHandler).
type RepairGrantsHandler struct {
	tickets     Tickets
	permissions Permissions
	grace       time.Duration
	batch       int
	logger      *slog.Logger
}

// NewRepairGrantsHandler returns the repair-grants use case. It leaves
// alone tickets listed less than grace ago: their create request may still
// be writing the tuples.
func NewRepairGrantsHandler(tickets Tickets, permissions Permissions, grace time.Duration, logger *slog.Logger) RepairGrantsHandler {
	return RepairGrantsHandler{tickets: tickets, permissions: permissions, grace: grace, batch: 100, logger: logger}
}

// Handle writes the tuples of up to one batch of flagged tickets (the
// writes are idempotent, so racing a slow create request or another
// instance is harmless) and clears their flags. It returns how many
// tickets it repaired and the failures, after trying every ticket.
func (h RepairGrantsHandler) Handle(ctx context.Context) (int, error) {
	pending, err := h.tickets.PendingGrants(ctx, now().Add(-h.grace), h.batch)
	if err != nil {
		return 0, err
	}
	repaired := 0
	var failures []error
	for _, t := range pending {
		if err := h.permissions.GrantTicket(ctx, t.ID(), t.SellerID()); err != nil {
			failures = append(failures, fmt.Errorf("grant ticket %s: %w", t.ID(), err))
			continue
		}
		if err := h.tickets.MarkGranted(ctx, t.ID()); err != nil {
			failures = append(failures, fmt.Errorf("mark ticket %s granted: %w", t.ID(), err))
			continue
		}
		repaired++
		h.logger.InfoContext(ctx, "repaired a ticket's permissions", slog.String("ticket_id", t.ID()))
	}
	return repaired, errors.Join(failures...)
}
