package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ticketing/ticketing/tickets/domain"
)

const (
	orderA = "65f0000000000000000000aa"
	orderB = "65f0000000000000000000bb"
)

// orderEvent is an event of an order that pinned newTicket's price.
func orderEvent(kind domain.OrderEventKind, id string, v int64) domain.OrderEvent {
	return domain.OrderEvent{Kind: kind, OrderID: id, OrderVersion: v, Price: 2500, Currency: "eur"}
}

func created(id string, v int64) domain.OrderEvent { return orderEvent(domain.OrderCreated, id, v) }

func cancelled(id string, v int64) domain.OrderEvent { return orderEvent(domain.OrderCancelled, id, v) }

func completed(id string, v int64) domain.OrderEvent { return orderEvent(domain.OrderCompleted, id, v) }

func refunded(id string, v int64) domain.OrderEvent { return orderEvent(domain.OrderRefunded, id, v) }

// pricedAt is e as if its order had pinned another price and currency.
func pricedAt(e domain.OrderEvent, price int64, currency string) domain.OrderEvent {
	e.Price, e.Currency = price, currency
	return e
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
		// wantRefused is the order the last step refused, if any.
		wantRefused string
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
			name:       "created at another price is refused, recorded, and changes nothing",
			steps:      []step{{event: pricedAt(created(orderA, 0), 2000, "eur")}},
			wantStatus: domain.StatusAvailable, wantVersion: 0,
			wantSeen: map[string]int64{orderA: 0}, wantRefused: orderA,
		},
		{
			name:       "created in another currency is refused",
			steps:      []step{{event: pricedAt(created(orderA, 0), 2500, "usd")}},
			wantStatus: domain.StatusAvailable, wantVersion: 0,
			wantSeen: map[string]int64{orderA: 0}, wantRefused: orderA,
		},
		{
			name: "a refused order's redelivered created is not refused again",
			steps: []step{
				{event: pricedAt(created(orderA, 0), 2000, "eur")},
				{event: pricedAt(created(orderA, 0), 2000, "eur"), wantErr: domain.ErrNoChange},
			},
			wantStatus: domain.StatusAvailable, wantVersion: 0,
			wantSeen: map[string]int64{orderA: 0},
		},
		{
			name: "a ticket held by another order refuses an order at another price at once",
			steps: []step{
				{event: created(orderA, 0)},
				{event: pricedAt(created(orderB, 0), 2000, "eur")},
			},
			wantStatus: domain.StatusReserved, wantOrder: orderA, wantVersion: 1,
			wantSeen: map[string]int64{orderA: 0, orderB: 0}, wantRefused: orderB,
		},
		{
			name:       "completed of an available ticket at another price does not sell it",
			steps:      []step{{event: pricedAt(completed(orderA, 1), 2000, "eur"), wantErr: domain.ErrSoldAtAnotherPrice}},
			wantStatus: domain.StatusAvailable, wantVersion: 0,
			wantSeen: map[string]int64{},
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
			if r, refused := ticket.Refusal(); r.OrderID != tt.wantRefused || refused != (tt.wantRefused != "") ||
				(refused && r.Reason != domain.RefusalPriceChanged) {
				t.Errorf("Refusal() = %+v, %v; want order %q", r, refused, tt.wantRefused)
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

// TestApplyOrder_RemembersABoundedNumberOfOrders cycles many orders through
// one ticket: it remembers at most MaxSeenOrders of them, never forgets the
// order holding it, and the events of forgotten orders change nothing.
func TestApplyOrder_RemembersABoundedNumberOfOrders(t *testing.T) {
	t.Parallel()
	ticket := newTicket(t)
	apply := func(e domain.OrderEvent, want error) {
		t.Helper()
		if err := ticket.ApplyOrder(e); !errors.Is(err, want) {
			t.Fatalf("%s %s v%d: ApplyOrder() = %v, want %v", e.Kind, e.OrderID, e.OrderVersion, err, want)
		}
	}
	id := func(i int) string { return fmt.Sprintf("65f00000000000000000%04x", i) }
	cycles := 3 * domain.MaxSeenOrders
	// The first order holds the ticket while every other one is created
	// and cancelled in the orders service before its created event
	// arrives here (cancelled first, then the late created).
	apply(created(id(0), 0), nil)
	for i := 1; i <= cycles; i++ {
		apply(cancelled(id(i), 1), nil)
		apply(created(id(i), 0), domain.ErrNoChange)
		if n := len(ticket.Snapshot().SeenOrders); n > domain.MaxSeenOrders {
			t.Fatalf("after %d orders the ticket remembers %d, want at most %d", i+1, n, domain.MaxSeenOrders)
		}
	}
	if _, ok := ticket.SeenOrderVersion(id(0)); !ok {
		t.Fatal("the order holding the ticket was forgotten")
	}
	apply(cancelled(id(0), 1), nil)
	if ticket.Status() != domain.StatusAvailable {
		t.Fatalf("the holder's cancellation left the ticket %s", ticket.Status())
	}
	// Redelivered events of long-forgotten orders change nothing.
	version := ticket.Version()
	for i := 1; i <= 3; i++ {
		apply(created(id(i), 0), domain.ErrNoChange)
		apply(completed(id(i), 1), domain.ErrNoChange)
	}
	if ticket.Status() != domain.StatusAvailable || ticket.Version() != version {
		t.Fatalf("forgotten orders' events changed the ticket: %s v%d, want available v%d", ticket.Status(), ticket.Version(), version)
	}
	// A new order still reserves it.
	apply(created(id(cycles+1), 0), nil)
	if ticket.Status() != domain.StatusReserved || ticket.OrderID() != id(cycles+1) {
		t.Fatalf("a new order after the cycles: ticket %s for %q", ticket.Status(), ticket.OrderID())
	}
}
