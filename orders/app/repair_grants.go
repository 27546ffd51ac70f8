package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/orders/domain"
)

// RepairGrantsHandler finishes the orders whose creation stopped between
// storing the order and writing its Keto tuples (a crash, Keto down): it
// writes their tuples again and clears the flag.
type RepairGrantsHandler struct {
	orders domain.Repository
	perms  Permissions
	logger *slog.Logger
	now    func() time.Time
	// Interval is how often it looks.
	Interval time.Duration
	// Grace is how old a flagged order must be, so that requests still
	// writing their tuples are left alone.
	Grace time.Duration
}

// NewRepairGrantsHandler returns the repairer: every 10 s, orders flagged
// for more than 30 s.
func NewRepairGrantsHandler(orders domain.Repository, perms Permissions, logger *slog.Logger) RepairGrantsHandler {
	return RepairGrantsHandler{orders: orders, perms: perms, logger: logger, now: time.Now, Interval: 10 * time.Second, Grace: 30 * time.Second}
}

// Run repairs until ctx ends.
func (h RepairGrantsHandler) Run(ctx context.Context) {
	runPasses(ctx, h.Interval, h.Repair, func(n int, err error) {
		if err != nil {
			h.logger.WarnContext(ctx, "grant repair pass failed; will retry", slog.Int("repaired", n), slog.String("error", err.Error()))
		} else if n > 0 {
			h.logger.InfoContext(ctx, "repaired order grants", slog.Int("repaired", n))
		}
	})
}

// Repair makes one pass and returns how many orders it repaired.
func (h RepairGrantsHandler) Repair(ctx context.Context) (int, error) {
	pending, err := h.orders.GrantsPending(ctx, h.now().Add(-h.Grace), 100)
	if err != nil {
		return 0, err
	}
	repaired := 0
	for _, o := range pending {
		if err := h.perms.GrantOrder(ctx, o); err != nil {
			return repaired, err
		}
		if err := h.orders.GrantsDone(ctx, o.ID()); err != nil {
			return repaired, err
		}
		repaired++
	}
	return repaired, nil
}
