package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
)

// RepairGrantsHandler finishes the payments whose creation stopped between
// storing the payment and writing its Keto tuples (a crash, Keto down): it
// writes their tuples again and clears the flag.
type RepairGrantsHandler struct {
	payments domain.Repository
	perms    Permissions
	logger   *slog.Logger
	now      func() time.Time
	// Interval is how often it looks.
	Interval time.Duration
	// Grace is how old a flagged payment must be, so that requests still
	// writing their tuples are left alone.
	Grace time.Duration
}

// NewRepairGrantsHandler returns the repairer: every 10 s, payments
// flagged for more than 30 s.
func NewRepairGrantsHandler(payments domain.Repository, perms Permissions, logger *slog.Logger) RepairGrantsHandler {
	return RepairGrantsHandler{payments: payments, perms: perms, logger: logger, now: time.Now, Interval: 10 * time.Second, Grace: 30 * time.Second}
}

// Run repairs until ctx ends.
func (h RepairGrantsHandler) Run(ctx context.Context) error {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if n, err := h.Repair(ctx); err != nil && ctx.Err() == nil {
			h.logger.WarnContext(ctx, "grant repair pass failed; will retry", slog.Int("repaired", n), slog.String("error", err.Error()))
		} else if n > 0 {
			h.logger.InfoContext(ctx, "repaired payment grants", slog.Int("repaired", n))
		}
	}
}

// Repair makes one pass and returns how many payments it repaired.
func (h RepairGrantsHandler) Repair(ctx context.Context) (int, error) {
	pending, err := h.payments.GrantsPending(ctx, h.now().Add(-h.Grace), 100)
	if err != nil {
		return 0, err
	}
	repaired := 0
	for _, p := range pending {
		if err := h.perms.GrantPayment(ctx, p); err != nil {
			return repaired, err
		}
		if err := h.payments.GrantsDone(ctx, p.ID()); err != nil {
			return repaired, err
		}
		repaired++
	}
	return repaired, nil
}
