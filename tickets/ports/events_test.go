package ports_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
	"github.com/ticketing/ticketing/tickets/ports"
)

// subscriber records the handlers registered with it.
type subscriber map[events.Name]events.Handler

func (s subscriber) Handle(n events.Name, h events.Handler) { s[n] = h }

func orderEvent(t *testing.T, name events.Name, ticketID, orderID, status string, version int64) events.Envelope {
	t.Helper()
	e, err := events.New(name, events.Order{
		ID: orderID, UserID: bob, Status: status, ExpiresAt: time.Now().Add(15 * time.Minute), Version: version,
		Ticket: events.OrderTicket{ID: ticketID, Title: "Jazz Night", Price: 2500, Currency: "eur", UserID: alice},
	}, events.Meta{CorrelationID: "corr-1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEventHandlers_ApplyOrderEventsToTheirTicket(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	subs := subscriber{}
	ports.NewEventHandlers(s.app).Register(subs)
	for _, n := range []events.Name{events.OrderCreated, events.OrderCancelled, events.OrderCompleted, events.OrderRefunded} {
		if subs[n] == nil {
			t.Fatalf("no handler for %s", n)
		}
	}
	if len(subs) != 4 {
		t.Errorf("handlers for %d events, want the 4 order events", len(subs))
	}
	ctx := context.Background()
	ticket := s.create(t, alice, "Jazz Night")
	const orderA, orderB = "65f0000000000000000000aa", "65f0000000000000000000bb"
	state := func() (string, string, int64) {
		view, err := s.app.GetTicket.Handle(ctx, app.GetTicket{TicketID: ticket.ID})
		if err != nil {
			t.Fatal(err)
		}
		got := view.Ticket
		return string(got.Status()), got.OrderID(), got.Version()
	}

	steps := []struct {
		event      events.Envelope
		wantErr    error
		wantStatus string
		wantOrder  string
	}{
		{event: orderEvent(t, events.OrderCreated, ticket.ID, orderA, "created", 0), wantStatus: "reserved", wantOrder: orderA},
		{event: orderEvent(t, events.OrderCreated, ticket.ID, orderB, "created", 0), wantErr: domain.ErrHeldByAnotherOrder, wantStatus: "reserved", wantOrder: orderA},
		{event: orderEvent(t, events.OrderCancelled, ticket.ID, orderA, "cancelled", 1), wantStatus: "available"},
		{event: orderEvent(t, events.OrderCreated, ticket.ID, orderA, "created", 0), wantStatus: "available"},
		{event: orderEvent(t, events.OrderCompleted, ticket.ID, orderB, "complete", 1), wantStatus: "sold", wantOrder: orderB},
		{event: orderEvent(t, events.OrderRefunded, ticket.ID, orderB, "refunded", 2), wantStatus: "available"},
		{event: orderEvent(t, events.OrderCreated, adapters.NewTicketID(), orderA, "created", 0), wantStatus: "available"},
	}
	for i, step := range steps {
		err := subs[step.event.Type](ctx, step.event)
		if (step.wantErr == nil && err != nil) || (step.wantErr != nil && !errors.Is(err, step.wantErr)) {
			t.Fatalf("step %d (%s): %v, want %v", i, step.event.Type, err, step.wantErr)
		}
		if status, order, _ := state(); status != step.wantStatus || order != step.wantOrder {
			t.Fatalf("step %d (%s): ticket %s for %q, want %s for %q", i, step.event.Type, status, order, step.wantStatus, step.wantOrder)
		}
	}
	if _, _, version := state(); version != 4 {
		t.Errorf("version %d, want 4 (reserve, release, sell, release)", version)
	}
}

func TestEventHandlers_MalformedOrderIsDeadLettered(t *testing.T) {
	t.Parallel()
	subs := subscriber{}
	ports.NewEventHandlers(newServer(t).app).Register(subs)
	e, _ := events.New(events.OrderCreated, map[string]any{"id": "nope"}, events.Meta{})
	if err := subs[events.OrderCreated](context.Background(), e); !errors.Is(err, events.ErrMalformed) {
		t.Errorf("malformed order: %v, want events.ErrMalformed", err)
	}
}
