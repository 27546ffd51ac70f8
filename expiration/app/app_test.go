package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ticketing/ticketing/expiration/app"
	"github.com/ticketing/ticketing/expiration/domain"
)

// fakeScheduler stands in for Asynq in these unit tests only; the Asynq
// adapter is tested against the real Redis.
type fakeScheduler struct {
	mu        sync.Mutex
	scheduled map[string]time.Time
	removed   []string
}

func (f *fakeScheduler) Schedule(_ context.Context, t domain.Timeout) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.scheduled[t.OrderID()]; ok {
		return false, nil
	}
	f.scheduled[t.OrderID()] = t.ExpiresAt()
	return true, nil
}

func (f *fakeScheduler) Unschedule(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.scheduled, id)
	f.removed = append(f.removed, id)
	return nil
}

type fakeExpirations struct{ recorded map[string]int }

func (f *fakeExpirations) Record(_ context.Context, id string, _ time.Time, _ string) (bool, error) {
	f.recorded[id]++
	return f.recorded[id] == 1, nil
}

const orderID = "656565656565656565656565"

func TestSchedule(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(time.Minute)
	cases := []struct {
		name    string
		orderID string
		at      time.Time
		times   int
		wantErr error
		want    int // timeouts scheduled afterwards
	}{
		{"schedules a created order", orderID, at, 1, nil, 1},
		{"a redelivery schedules nothing more", orderID, at, 3, nil, 1},
		{"a malformed order id is refused", "nope", at, 1, domain.ErrInvalidTimeout, 0},
		{"an order without expiry is refused", orderID, time.Time{}, 1, domain.ErrInvalidTimeout, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &fakeScheduler{scheduled: map[string]time.Time{}}
			h := app.NewScheduleHandler(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for i := 0; i < tc.times; i++ {
				err := h.Handle(context.Background(), tc.orderID, tc.at)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Handle = %v, want %v", err, tc.wantErr)
				}
			}
			if len(s.scheduled) != tc.want {
				t.Fatalf("%d timeouts scheduled, want %d", len(s.scheduled), tc.want)
			}
		})
	}
}

func TestUnscheduleAndExpire(t *testing.T) {
	t.Parallel()
	s := &fakeScheduler{scheduled: map[string]time.Time{}}
	_ = app.NewScheduleHandler(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Handle(context.Background(), orderID, time.Now())
	if err := app.NewUnscheduleHandler(s).Handle(context.Background(), orderID); err != nil || len(s.scheduled) != 0 {
		t.Fatalf("after unschedule: %v, %d left", err, len(s.scheduled))
	}
	e := &fakeExpirations{recorded: map[string]int{}}
	h := app.NewExpireHandler(e)
	for i := 0; i < 2; i++ {
		if err := h.Handle(context.Background(), orderID, "corr"); err != nil {
			t.Fatal(err)
		}
	}
	if e.recorded[orderID] != 2 {
		t.Fatalf("expire handler reached the store %d times, want every firing passed on (the store dedups)", e.recorded[orderID])
	}
}
