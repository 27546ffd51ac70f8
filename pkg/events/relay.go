package events

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// lanes queue the events writes hand over, an aggregate always in the
	// same lane, which one worker publishes in order; when its lane is
	// full the writer wakes the relay instead, and the scan finds them.
	lanes []chan Pending
	// Interval is how often the outbox is scanned when nobody calls Wake
	// (after a restart, when publishing failed, or when handoffs overflowed).
	Interval time.Duration
	// Batch is how many aggregates one scan takes.
	Batch int
	// Parallel is how many aggregates a scan publishes at once: the broker
	// confirms concurrent publishes together, so more in flight means more
	// a second. Handoffs have as many lanes, each with its own worker.
	Parallel int
}

// NewRelay returns a relay from store to pub.
func NewRelay(store OutboxStore, pub EventPublisher, log *slog.Logger) *Relay {
	lanes := make([]chan Pending, handoffLanes)
	for i := range lanes {
		lanes[i] = make(chan Pending, handoffQueue/handoffLanes)
	}
	return &Relay{
		store: store, pub: pub, log: log, wake: make(chan struct{}, 1), lanes: lanes,
		Interval: time.Second, Batch: 200, Parallel: handoffLanes,
	}
}

const (
	// handoffQueue bounds the handoffs waiting for the relay.
	handoffQueue = 4096
	// handoffLanes is how many handoffs are published at once.
	handoffLanes = 32
)

// Wake asks the relay to scan the outbox now.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Handoff gives the relay the events a write just stored: the common path,
// which costs the store no search. It never blocks: with the queue full it
// wakes the relay, whose scan finds the events.
func (r *Relay) Handoff(p Pending) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(p.AggregateID))
	select {
	case r.lanes[h.Sum32()%uint32(len(r.lanes))] <- p:
	default:
		r.Wake()
	}
}

// Run relays until ctx ends, then makes a last bounded pass so that what was
// written before the shutdown leaves with it. Parallel workers publish the
// handoffs as they come; the outbox is scanned at start, on Wake, and every
// Interval for events older than Interval (younger ones are the handoffs'
// to publish, and a scan would only publish them twice).
func (r *Relay) Run(ctx context.Context) error {
	var workers sync.WaitGroup
	for _, lane := range r.lanes {
		workers.Add(1)
		go func() {
			defer workers.Done()
			r.work(ctx, lane)
		}()
	}
	defer workers.Wait()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	var minAge time.Duration // the first pass takes everything
	for {
		if minAge >= 0 {
			if _, err := r.flush(ctx, minAge); err != nil && ctx.Err() == nil {
				r.log.Warn("outbox relay pass failed; will retry", "error", err)
			}
			minAge = -1
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
			minAge = 0
		case <-t.C:
			minAge = r.Interval
		}
	}
}

// work publishes the handoffs of lane in order until ctx ends. A failure
// leaves the events in the outbox and wakes the scan, which retries them.
func (r *Relay) work(ctx context.Context, lane <-chan Pending) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-lane:
			if err := r.publishOne(ctx, p); err != nil {
				if ctx.Err() == nil {
					r.log.Warn("outbox handoff not relayed; the scan retries it", "aggregate_id", p.AggregateID, "error", err)
				}
				r.Wake()
			}
		}
	}
}

// publishOne publishes p's events and then removes them from the outbox.
func (r *Relay) publishOne(ctx context.Context, p Pending) error {
	if err := r.pub.Publish(ctx, p.Events...); err != nil {
		return err
	}
	ids := make([]string, len(p.Events))
	for i, e := range p.Events {
		ids[i] = e.ID
	}
	return r.store.MarkPublished(ctx, p.AggregateID, ids)
}

// Flush publishes everything pending now and returns how many events it
// published.
func (r *Relay) Flush(ctx context.Context) (int, error) { return r.flush(ctx, 0) }

// flush publishes the pending aggregates whose newest event is at least
// minAge old.
func (r *Relay) flush(ctx context.Context, minAge time.Duration) (int, error) {
	total := 0
	for {
		pending, err := r.store.Pending(ctx, r.Batch)
		if err != nil {
			return total, err
		}
		due := pending[:0]
		for _, p := range pending {
			if len(p.Events) > 0 && time.Since(p.Events[len(p.Events)-1].OccurredAt) >= minAge {
				due = append(due, p)
			}
		}
		if len(due) == 0 {
			return total, nil
		}
		n, err := r.publish(ctx, due)
		total += n
		if err != nil || len(pending) < r.Batch {
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
			err := r.publishOne(ctx, p)
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

// RelayRef lets a store be built before the relay that reads it: it passes
// wake-ups and handoffs on to the relay once Set, and drops them before
// (the relay's first scan finds those events).
type RelayRef struct{ relay atomic.Pointer[Relay] }

// Set names the relay.
func (l *RelayRef) Set(r *Relay) { l.relay.Store(r) }

// Wake implements docstore.Waker.
func (l *RelayRef) Wake() {
	if r := l.relay.Load(); r != nil {
		r.Wake()
	}
}

// Handoff implements docstore.Waker.
func (l *RelayRef) Handoff(p Pending) {
	if r := l.relay.Load(); r != nil {
		r.Handoff(p)
	}
}
