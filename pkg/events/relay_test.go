package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory OutboxStore for the relay's unit tests only; the
// Mongo stores are tested against FerretDB.
type memStore struct {
	mu     sync.Mutex
	outbox map[string][]Envelope
	scans  int
}

func (m *memStore) Pending(_ context.Context, limit int) ([]Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans++
	var out []Pending
	for id, evs := range m.outbox {
		if len(evs) > 0 && len(out) < limit {
			out = append(out, Pending{AggregateID: id, Events: append([]Envelope(nil), evs...)})
		}
	}
	return out, nil
}

func (m *memStore) MarkPublished(_ context.Context, id string, ids []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	done := map[string]bool{}
	for _, i := range ids {
		done[i] = true
	}
	var keep []Envelope
	for _, e := range m.outbox[id] {
		if !done[e.ID] {
			keep = append(keep, e)
		}
	}
	m.outbox[id] = keep
	return nil
}

type recordingPublisher struct {
	mu     sync.Mutex
	got    map[string][]int64
	failOn map[string]bool
}

func (p *recordingPublisher) Publish(_ context.Context, envs ...Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range envs {
		if p.failOn[e.ID] {
			return errors.New("broker unavailable")
		}
	}
	for _, e := range envs {
		var v struct {
			ID      string
			Version int64
		}
		_ = json.Unmarshal(e.Data, &v)
		p.got[v.ID] = append(p.got[v.ID], v.Version)
	}
	return nil
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRelay_PublishesInOrderPerAggregateAndMarksPublished(t *testing.T) {
	t.Parallel()
	store := &memStore{outbox: map[string][]Envelope{}}
	for _, id := range []string{"a", "b", "c"} {
		for v := int64(0); v < 5; v++ {
			e, _ := New(TicketUpdated, map[string]any{"ID": id, "Version": v}, Meta{})
			store.outbox[id] = append(store.outbox[id], e)
		}
	}
	pub := &recordingPublisher{got: map[string][]int64{}}
	r := NewRelay(store, pub, quietLogger())
	n, err := r.Flush(context.Background())
	if err != nil || n != 15 {
		t.Fatalf("Flush = %d, %v; want 15 events", n, err)
	}
	for _, id := range []string{"a", "b", "c"} {
		got := pub.got[id]
		for i, v := range got {
			if v != int64(i) {
				t.Fatalf("aggregate %s published out of order: %v", id, got)
			}
		}
		if len(store.outbox[id]) != 0 {
			t.Fatalf("aggregate %s still has %d pending", id, len(store.outbox[id]))
		}
	}
}

func TestRelay_KeepsEventsWhenPublishingFails(t *testing.T) {
	t.Parallel()
	store := &memStore{outbox: map[string][]Envelope{}}
	e, _ := New(TicketUpdated, map[string]any{"ID": "a", "Version": 0}, Meta{})
	store.outbox["a"] = []Envelope{e}
	pub := &recordingPublisher{got: map[string][]int64{}, failOn: map[string]bool{e.ID: true}}
	r := NewRelay(store, pub, quietLogger())
	if _, err := r.Flush(context.Background()); err == nil {
		t.Fatal("Flush succeeded although the broker refused the event")
	}
	if len(store.outbox["a"]) != 1 {
		t.Fatal("a failed event was removed from the outbox")
	}
	pub.failOn = nil
	if n, err := r.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry Flush = %d, %v; want the kept event published", n, err)
	}
}

func TestRelay_HandoffPublishesAndMarks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		brokerFails bool
		wantPending int // events left in the store's outbox
	}{
		{name: "published and marked"},
		{name: "broker down: left for the scan, which is woken", brokerFails: true, wantPending: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := &memStore{outbox: map[string][]Envelope{}}
			e, _ := New(TicketUpdated, map[string]any{"ID": "a", "Version": 3}, Meta{})
			store.outbox["a"] = []Envelope{e}
			pub := &recordingPublisher{got: map[string][]int64{}, failOn: map[string]bool{e.ID: tc.brokerFails}}
			r := NewRelay(store, pub, quietLogger())
			r.Handoff(Pending{AggregateID: "a", Events: []Envelope{e}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for _, lane := range r.lanes {
				go r.work(ctx, lane)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				store.mu.Lock()
				left := len(store.outbox["a"])
				store.mu.Unlock()
				if (tc.brokerFails && len(r.wake) == 1) || (!tc.brokerFails && left == 0) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the handoff was never relayed (%d events left, woken %v)", left, len(r.wake) == 1)
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			store.mu.Lock()
			left := len(store.outbox["a"])
			store.mu.Unlock()
			if left != tc.wantPending {
				t.Fatalf("%d events left in the outbox, want %d", left, tc.wantPending)
			}
			pub.mu.Lock()
			defer pub.mu.Unlock()
			if published := len(pub.got["a"]); tc.brokerFails != (published == 0) {
				t.Fatalf("published %v (broker fails: %v)", pub.got["a"], tc.brokerFails)
			}
		})
	}
}

func TestRelay_HandoffsNeedNoScan(t *testing.T) {
	t.Parallel()
	store := &memStore{outbox: map[string][]Envelope{}}
	pub := &recordingPublisher{got: map[string][]int64{}}
	r := NewRelay(store, pub, quietLogger())
	r.Interval = time.Hour // no periodic scan during the test
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for scanned := false; !scanned; time.Sleep(time.Millisecond) {
		store.mu.Lock()
		scanned = store.scans == 1 // the first pass, over an empty outbox
		store.mu.Unlock()
	}
	const writes = 50
	for i := range writes {
		id := fmt.Sprintf("agg-%d", i)
		e, _ := New(TicketUpdated, map[string]any{"ID": id, "Version": 0}, Meta{})
		store.mu.Lock()
		store.outbox[id] = []Envelope{e}
		store.mu.Unlock()
		r.Handoff(Pending{AggregateID: id, Events: []Envelope{e}})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pub.mu.Lock()
		n := len(pub.got)
		pub.mu.Unlock()
		if n == writes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d handed-off aggregates published", n, writes)
		}
		time.Sleep(5 * time.Millisecond)
	}
	store.mu.Lock()
	scans := store.scans
	store.mu.Unlock()
	cancel()
	<-done
	if scans != 1 {
		t.Fatalf("the outbox was scanned %d times while relaying handoffs, want once (at start)", scans)
	}
}

func TestRelay_PeriodicScanLeavesFreshEventsToTheirHandoff(t *testing.T) {
	t.Parallel()
	store := &memStore{outbox: map[string][]Envelope{}}
	old, _ := New(TicketUpdated, map[string]any{"ID": "old", "Version": 0}, Meta{})
	old.OccurredAt = time.Now().Add(-10 * time.Second)
	fresh, _ := New(TicketUpdated, map[string]any{"ID": "fresh", "Version": 0}, Meta{})
	store.outbox["old"], store.outbox["fresh"] = []Envelope{old}, []Envelope{fresh}
	pub := &recordingPublisher{got: map[string][]int64{}}
	r := NewRelay(store, pub, quietLogger())
	if n, err := r.flush(context.Background(), time.Second); err != nil || n != 1 {
		t.Fatalf("periodic pass = %d, %v; want the old event only", n, err)
	}
	if len(pub.got["old"]) != 1 || len(pub.got["fresh"]) != 0 || len(store.outbox["fresh"]) != 1 {
		t.Fatalf("published %v; want the old aggregate's event, the fresh one left pending", pub.got)
	}
	if n, err := r.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("Flush = %d, %v; want the fresh event too", n, err)
	}
}

func TestRelay_HandoffsOfOneAggregateArePublishedInOrder(t *testing.T) {
	t.Parallel()
	store := &memStore{outbox: map[string][]Envelope{}}
	pub := &recordingPublisher{got: map[string][]int64{}, failOn: map[string]bool{}}
	r := NewRelay(store, pub, quietLogger())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, lane := range r.lanes {
		go r.work(ctx, lane)
	}
	// Each write of each aggregate hands off its one new event at once,
	// while every worker is free to take it.
	const aggregates, versions = 8, 50
	for v := range int64(versions) {
		for a := range aggregates {
			id := fmt.Sprintf("agg-%d", a)
			e, _ := New(TicketUpdated, map[string]any{"ID": id, "Version": v}, Meta{})
			store.mu.Lock()
			store.outbox[id] = append(store.outbox[id], e)
			store.mu.Unlock()
			r.Handoff(Pending{AggregateID: id, Events: []Envelope{e}})
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		pub.mu.Lock()
		n := 0
		for _, got := range pub.got {
			n += len(got)
		}
		pub.mu.Unlock()
		if n == aggregates*versions {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events published", n, aggregates*versions)
		}
		time.Sleep(time.Millisecond)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for id, got := range pub.got {
		for i, v := range got {
			if v != int64(i) {
				t.Fatalf("%s published in the order %v, want 0, 1, 2, …", id, got)
			}
		}
	}
}
