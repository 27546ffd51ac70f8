package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/orders/domain"
)

// ReleaseOverdueHandler ends the holds the expiration service should have
// ended and did not (its timeout lost with Redis, its event dead-lettered):
// created orders whose hold window closed more than Grace ago are expired
// as expiration.completed would (order.cancelled follows). Without it such
// an order would keep its ticket, and one of its buyer's hold slots,
// forever.
type ReleaseOverdueHandler struct {
	expire ExpireOrderHandler
	orders domain.Repository
	logger *slog.Logger
	now    func() time.Time
	// Interval is how often it looks.
	Interval time.Duration
	// Grace is how long after its hold window an order is left to the
	// expiration service.
	Grace time.Duration
}

// NewReleaseOverdueHandler returns the sweeper: every 10 s, orders whose
// hold ended more than a minute ago.
func NewReleaseOverdueHandler(orders domain.Repository, logger *slog.Logger) ReleaseOverdueHandler {
	return ReleaseOverdueHandler{
		expire: NewExpireOrderHandler(orders, logger), orders: orders, logger: logger, now: time.Now,
		Interval: 10 * time.Second, Grace: time.Minute,
	}
}

// Run sweeps until ctx ends.
func (h ReleaseOverdueHandler) Run(ctx context.Context) {
	runPasses(ctx, h.Interval, h.Release, func(n int, err error) {
		if err != nil {
			h.logger.WarnContext(ctx, "overdue hold sweep failed; will retry", slog.Int("released", n), slog.String("error", err.Error()))
		} else if n > 0 {
			h.logger.WarnContext(ctx, "released holds the expiration service missed", slog.Int("released", n))
		}
	})
}

// Release makes one pass and returns how many orders it expired.
func (h ReleaseOverdueHandler) Release(ctx context.Context) (int, error) {
	overdue, err := h.orders.OverdueHolds(ctx, h.now().Add(-h.Grace), 100)
	if err != nil {
		return 0, err
	}
	for i, o := range overdue {
		if err := h.expire.Handle(ctx, o.ID()); err != nil {
			return i, err
		}
	}
	return len(overdue), nil
}
