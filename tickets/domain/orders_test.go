package domain_test

import (
	"errors"
	"testing"

	"github.com/ticketing/ticketing/tickets/domain"
)

const (
	orderA = "65f0000000000000000000aa"
	orderB = "65f0000000000000000000bb"
)

func created(id string, v int64) domain.OrderEvent {
	return domain.OrderEvent{Kind: domain.OrderCreated, OrderID: id, OrderVersion: v}
}

func cancelled(id string, v int64) domain.OrderEvent {
	return domain.OrderEvent{Kind: domain.OrderCancelled, OrderID: id, OrderVersion: v}
}

func completed(id string, v int64) domain.OrderEvent {
	return domain.OrderEvent{Kind: domain.OrderCompleted, OrderID: id, OrderVersion: v}
}

func refunded(id string, v int64) domain.OrderEvent {
	return domain.OrderEvent{Kind: domain.OrderRefunded, OrderID: id, OrderVersion: v}
}

func TestApplyOrder(t *testing.T) {
	t.Parallel()
	type step struct {
		event   domain.OrderEvent
		wantErr error // nil, domain.ErrNoChange or domain.ErrHeldByAnotherOrder
	}
	tests := []struct {
		name        string
		steps       []step
		wantStatus  domain.Status
		wantOrder   string
		wantVersion int64
		wantSeen    map[string]int64
	}{
		{
			name:       "created reserves",
			steps:      []step{{event: created(orderA, 0)}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0},
		},
		{
			name:       "duplicate created changes nothing",
			steps:      []step{{event: created(orderA, 0)}, {event: created(orderA, 0), wantErr: domain.ErrNoChange}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0},
		},
		{
			name:       "cancelled releases",
			steps:      []step{{event: created(orderA, 0)}, {event: cancelled(orderA, 1)}},
			wantStatus: domain.StatusAvailable, wantVersion: 2,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name: "older event after a newer one changes nothing",
			steps: []step{
				{event: created(orderA, 0)}, {event: cancelled(orderA, 1)},
				{event: created(orderA, 0), wantErr: domain.ErrNoChange},
			},
			wantStatus: domain.StatusAvailable, wantVersion: 2,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name:       "out of order: cancelled before created",
			steps:      []step{{event: cancelled(orderA, 1)}, {event: created(orderA, 0), wantErr: domain.ErrNoChange}},
			wantStatus: domain.StatusAvailable, wantVersion: 0,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name:       "completed sells the reserved ticket",
			steps:      []step{{event: created(orderA, 0)}, {event: completed(orderA, 1)}},
			wantStatus: domain.StatusSold, wantOrder: orderA, wantVersion: 2,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name:       "out of order: completed before created",
			steps:      []step{{event: completed(orderA, 1)}, {event: created(orderA, 0), wantErr: domain.ErrNoChange}},
			wantStatus: domain.StatusSold, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name:       "refunded releases a sold ticket",
			steps:      []step{{event: created(orderA, 0)}, {event: completed(orderA, 1)}, {event: refunded(orderA, 2)}},
			wantStatus: domain.StatusAvailable, wantVersion: 3,
			wantSeen: map[string]int64{orderA: 2},
		},
		{
			name: "out of order: refunded before completed",
			steps: []step{
				{event: created(orderA, 0)}, {event: refunded(orderA, 2)},
				{event: completed(orderA, 1), wantErr: domain.ErrNoChange},
			},
			wantStatus: domain.StatusAvailable, wantVersion: 2,
			wantSeen: map[string]int64{orderA: 2},
		},
		{
			name:       "held by another order: created is retryable and not recorded",
			steps:      []step{{event: created(orderA, 0)}, {event: created(orderB, 0), wantErr: domain.ErrHeldByAnotherOrder}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0},
		},
		{
			name:       "held by another order: completed is retryable",
			steps:      []step{{event: created(orderA, 0)}, {event: completed(orderB, 1), wantErr: domain.ErrHeldByAnotherOrder}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0},
		},
		{
			name: "held by another order: retried after that order is cancelled",
			steps: []step{
				{event: created(orderA, 0)},
				{event: created(orderB, 0), wantErr: domain.ErrHeldByAnotherOrder},
				{event: cancelled(orderA, 1)},
				{event: created(orderB, 0)},
			},
			wantStatus: domain.StatusReserved, wantOrder: orderB, wantVersion: 3,
			wantSeen: map[string]int64{orderA: 1, orderB: 0},
		},
		{
			name:       "cancelled of another order does not release, but is recorded",
			steps:      []step{{event: created(orderA, 0)}, {event: cancelled(orderB, 1)}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0, orderB: 1},
		},
		{
			name:       "refunded of another order does not release a sold ticket",
			steps:      []step{{event: completed(orderA, 1)}, {event: refunded(orderB, 2)}},
			wantStatus: domain.StatusSold, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 1, orderB: 2},
		},
		{
			name:       "created again by the holding order, newer version: nothing but recorded",
			steps:      []step{{event: created(orderA, 0)}, {event: created(orderA, 1)}},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 1},
		},
		{
			name:       "completed twice with a newer version: stays sold",
			steps:      []step{{event: completed(orderA, 1)}, {event: completed(orderA, 2)}},
			wantStatus: domain.StatusSold, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticket := newTicket(t)
			for i, s := range tt.steps {
				err := ticket.ApplyOrder(s.event)
				if (s.wantErr == nil && err != nil) || (s.wantErr != nil && !errors.Is(err, s.wantErr)) {
					t.Fatalf("step %d (%s %s v%d): ApplyOrder() = %v, want %v", i, s.event.Kind, s.event.OrderID, s.event.OrderVersion, err, s.wantErr)
				}
			}
			got := ticket.Snapshot()
			if got.Status != tt.wantStatus || got.OrderID != tt.wantOrder || got.Version != tt.wantVersion {
				t.Errorf("ticket %s/%q/v%d, want %s/%q/v%d", got.Status, got.OrderID, got.Version, tt.wantStatus, tt.wantOrder, tt.wantVersion)
			}
			if len(got.SeenOrders) != len(tt.wantSeen) {
				t.Errorf("seen orders %v, want %v", got.SeenOrders, tt.wantSeen)
			}
			for id, v := range tt.wantSeen {
				if got.SeenOrders[id] != v {
					t.Errorf("seen orders %v, want %v", got.SeenOrders, tt.wantSeen)
				}
			}
		})
	}
}

func TestApplyOrder_EveryDeliveryOrderEndsTheSame(t *testing.T) {
	t.Parallel()
	// Order A is created, then cancelled; order B is created, then
	// completed. Within an order its events may arrive in any order, and
	// B's events retry while A holds the ticket: the end is always sold to B.
	history := []domain.OrderEvent{created(orderA, 0), cancelled(orderA, 1), created(orderB, 0), completed(orderB, 1)}
	for _, perm := range permutations(len(history)) {
		ticket := newTicket(t)
		pending := make([]domain.OrderEvent, 0, len(history))
		for _, i := range perm {
			pending = append(pending, history[i])
		}
		for rounds := 0; len(pending) > 0; rounds++ {
			if rounds > len(history) {
				t.Fatalf("permutation %v: events %v never applied", perm, pending)
			}
			var retry []domain.OrderEvent
			for _, e := range pending {
				if err := ticket.ApplyOrder(e); errors.Is(err, domain.ErrHeldByAnotherOrder) {
					retry = append(retry, e)
				} else if err != nil && !errors.Is(err, domain.ErrNoChange) {
					t.Fatalf("permutation %v: %v", perm, err)
				}
			}
			pending = retry
		}
		if ticket.Status() != domain.StatusSold || ticket.OrderID() != orderB {
			t.Errorf("permutation %v: ticket %s for %q, want sold to B", perm, ticket.Status(), ticket.OrderID())
		}
	}
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
