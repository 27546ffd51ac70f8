package events

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Pending is one aggregate's unpublished events, oldest first.
type Pending struct {
	AggregateID string
	Events      []Envelope
}

// OutboxStore is the side of a service's repository the relay needs: the
// events stored with each state change, in the same single-document write.
type OutboxStore interface {
	// Pending returns up to limit aggregates that have unpublished events.
	Pending(ctx context.Context, limit int) ([]Pending, error)
	// MarkPublished removes the given events from the aggregate's outbox,
	// keeping any event added since.
	MarkPublished(ctx context.Context, aggregateID string, eventIDs []string) error
}

// EventPublisher is what the relay publishes through (a *Publisher).
type EventPublisher interface {
	Publish(ctx context.Context, envs ...Envelope) error
}

// Relay moves events from the outbox to the broker: at least once, in order
// per aggregate, marking each published only after the broker confirmed it.
// A crash between the confirm and the mark publishes the event again;
// consumers are idempotent.
type Relay struct {
	store OutboxStore
	pub   EventPublisher
	log   *slog.Logger
	wake  chan struct{}
	// Interval is how often the outbox is scanned when nobody calls Wake
	// (after a restart, or when publishing failed).
	Interval time.Duration
	// Batch is how many aggregates one scan takes.
	Batch int
	// Parallel is how many aggregates are published at once.
	Parallel int
}

// NewRelay returns a relay from store to pub.
func NewRelay(store OutboxStore, pub EventPublisher, log *slog.Logger) *Relay {
	return &Relay{
		store: store, pub: pub, log: log, wake: make(chan struct{}, 1),
		Interval: time.Second, Batch: 200, Parallel: 8,
	}
}

// Wake asks the relay to scan now; a write that added events calls it.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends, then makes a last bounded pass so that what was
// written before the shutdown leaves with it.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if _, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay pass failed; will retry", "error", err)
		}
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := r.Flush(final); err != nil {
				r.log.Warn("events left in the outbox at shutdown; they are published after the restart", "error", err)
			}
			return nil
		case <-r.wake:
		case <-t.C:
		}
	}
}

// Flush publishes everything pending now and returns how many events it
// published.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	total := 0
	for {
		pending, err := r.store.Pending(ctx, r.Batch)
		if err != nil {
			return total, err
		}
		if len(pending) == 0 {
			return total, nil
		}
		n, err := r.publish(ctx, pending)
		total += n
		if err != nil {
			return total, err
		}
	}
}

func (r *Relay) publish(ctx context.Context, pending []Pending) (int, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		firstErr error
	)
	sem := make(chan struct{}, r.Parallel)
	for _, p := range pending {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := r.pub.Publish(ctx, p.Events...)
			if err == nil {
				ids := make([]string, len(p.Events))
				for i, e := range p.Events {
					ids[i] = e.ID
				}
				err = r.store.MarkPublished(ctx, p.AggregateID, ids)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			total += len(p.Events)
		}()
	}
	wg.Wait()
	return total, firstErr
}
