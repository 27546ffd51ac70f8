package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/pkg/httpserver"
)

// Run serves HTTP on addr and runs the background work until ctx ends,
// then shuts down in order: HTTP stops taking requests and finishes those
// in flight; the consumer stops taking events and finishes the handlers
// in flight (the rest stay queued); the repairer stops; the relay makes a
// last pass, so that the events of everything above leave with it. Call
// Close afterwards.
func (s *Service) Run(ctx context.Context, addr string) error {
	stopConsumer := s.start(func(ctx context.Context) { _ = s.consumer.Run(ctx) })
	stopRepairer := s.start(s.repairGrants)
	stopRelay := s.start(func(ctx context.Context) { _ = s.relay.Run(ctx) })

	s.logger.Info("serving", slog.String("addr", addr))
	err := httpserver.Run(ctx, s.Handler, addr, shutdownTimeout)

	stopConsumer()
	stopRepairer()
	stopRelay()
	s.logger.Info("stopped")
	return err
}

// start runs fn in the background; the returned stop cancels fn's context
// and waits for fn to return. fn's context does not end with Run's, so
// that stopping follows Run's order.
func (s *Service) start(fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// repairGrants runs the grants repairer every repairInterval.
func (s *Service) repairGrants(ctx context.Context) {
	ticker := time.NewTicker(repairInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if _, err := s.app.RepairGrants.Handle(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("grants repair pass failed; will retry", slog.String("error", err.Error()))
		}
	}
}
