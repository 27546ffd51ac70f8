package keto

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// A fake send stands in for Keto here: this is the unit test of the code
// that calls it; the Client's tests talk to the real Keto.
func TestBatcher_JoinsWritesWhileCallsAreBusy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		sendErr error
	}{
		{name: "every caller learns of the write"},
		{name: "every caller learns of the failure", sendErr: errors.New("keto down")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			var mu sync.Mutex
			var calls [][]Tuple
			send := func(_ context.Context, tuples []Tuple) error {
				mu.Lock()
				calls = append(calls, tuples)
				first := len(calls) == 1
				mu.Unlock()
				if first {
					<-release // the first call stays busy until the others queued
					return nil
				}
				return tc.sendErr
			}
			b := newBatcher(send, 1, time.Minute)
			ctx := context.Background()
			firstDone := make(chan error, 1)
			go func() { firstDone <- b.write(ctx, []Tuple{{Object: "first"}}) }()
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 1 })

			const callers = 5
			errs := make(chan error, callers)
			for i := range callers {
				go func() { errs <- b.write(ctx, []Tuple{{Object: "a", Relation: string(rune('0' + i))}, {Object: "b"}}) }()
			}
			waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.next != nil && len(b.next.tuples) == 2*callers })
			close(release)
			if err := <-firstDone; err != nil {
				t.Fatalf("first write: %v", err)
			}
			for range callers {
				if err := <-errs; !errors.Is(err, tc.sendErr) {
					t.Fatalf("a joined write returned %v, want %v", err, tc.sendErr)
				}
			}
			if len(calls) != 2 || len(calls[1]) != 2*callers {
				t.Fatalf("%d calls (second with %d tuples); want 2, the second carrying all %d queued tuples", len(calls), len(calls[len(calls)-1]), 2*callers)
			}
		})
	}
}

func TestBatcher_LoneWriteIsSentAtOnce(t *testing.T) {
	t.Parallel()
	sent := make(chan int, 1)
	b := newBatcher(func(_ context.Context, tuples []Tuple) error { sent <- len(tuples); return nil }, 4, time.Minute)
	if err := b.write(context.Background(), []Tuple{{Object: "x"}, {Object: "y"}}); err != nil {
		t.Fatal(err)
	}
	if n := <-sent; n != 2 {
		t.Fatalf("sent %d tuples, want 2", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}
