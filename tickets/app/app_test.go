package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/app/apptest"
	"github.com/ticketing/ticketing/tickets/domain"
)

const (
	alice  = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	bob    = "9b2f6c1e-2a3d-4e5f-8a7b-6c5d4e3f2a1b"
	admin  = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	orderA = "65f0000000000000000000aa"
	orderB = "65f0000000000000000000bb"
)

var (
	discard       = slog.New(slog.NewJSONHandler(io.Discard, nil))
	errKetoIsDown = apierr.Unavailable("Keto", errors.New("connection refused"))
)

func price(p int64) *int64 { return &p }

func str(s string) *string { return &s }

type fixture struct {
	tickets     *adapters.MemoryTicketRepository
	permissions *apptest.Permissions
	app         app.Application
}

func newFixture() fixture {
	tickets := adapters.NewMemoryTicketRepository()
	permissions := &apptest.Permissions{Admins: map[string]bool{admin: true}}
	return fixture{
		tickets:     tickets,
		permissions: permissions,
		app: app.Application{
			CreateTicket: app.NewCreateTicketHandler(tickets, permissions, adapters.NewTicketID, discard),
			EditTicket:   app.NewEditTicketHandler(tickets, permissions),
			GetTicket:    app.NewGetTicketHandler(tickets, permissions),
			ListTickets:  app.NewListTicketsHandler(tickets),
			ApplyOrder:   app.NewApplyOrderHandler(tickets, discard),
			RepairGrants: app.NewRepairGrantsHandler(tickets, permissions, 30*time.Second, discard),
		},
	}
}

func (f fixture) create(t *testing.T, seller string) *domain.Ticket {
	t.Helper()
	ticket, err := f.app.CreateTicket.Handle(context.Background(), app.CreateTicket{SellerID: seller, Title: "Jazz Night", Price: price(2500)})
	if err != nil {
		t.Fatal(err)
	}
	return ticket
}

func TestCreateTicket_GrantsBeforeAnswering(t *testing.T) {
	t.Parallel()
	f := newFixture()
	ticket := f.create(t, alice)
	if f.permissions.Owner(ticket.ID()) != alice {
		t.Errorf("owner of %s in Keto = %q, want %s", ticket.ID(), f.permissions.Owner(ticket.ID()), alice)
	}
	if f.tickets.GrantsPending(ticket.ID()) {
		t.Error("grants still pending after a successful create")
	}
}

func TestCreateTicket_KetoDownFailsAndLeavesTheTicketForTheRepairer(t *testing.T) {
	t.Parallel()
	f := newFixture()
	f.permissions.SetErr(errKetoIsDown)
	_, err := f.app.CreateTicket.Handle(context.Background(), app.CreateTicket{SellerID: alice, Title: "Jazz Night", Price: price(1)})
	if apierr.Status(err) != 503 {
		t.Fatalf("Handle() = %v, want 503", err)
	}
	stored, _ := f.tickets.List(context.Background(), app.TicketFilter{SellerID: alice, Limit: 10})
	if len(stored) != 1 || !f.tickets.GrantsPending(stored[0].ID()) {
		t.Fatalf("stored %d tickets (pending %v), want one with grants pending", len(stored), len(stored) == 1 && f.tickets.GrantsPending(stored[0].ID()))
	}
}

func TestCreateTicket_InvalidInputWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture()
	_, err := f.app.CreateTicket.Handle(context.Background(), app.CreateTicket{SellerID: alice, Title: "ab", Price: price(-1), Currency: "zzz"})
	if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid || len(e.Fields) != 3 {
		t.Fatalf("Handle() = %v, want 400 naming three fields", err)
	}
	stored, _ := f.tickets.List(context.Background(), app.TicketFilter{SellerID: alice, Limit: 10})
	if len(stored) != 0 || f.permissions.Grants != 0 {
		t.Errorf("invalid input wrote %d tickets and %d grants", len(stored), f.permissions.Grants)
	}
}

func TestRepairGrants_FinishesOnlyOldPendingTickets(t *testing.T) {
	t.Parallel()
	f := newFixture()
	ctx := context.Background()
	old, err := domain.NewTicket(adapters.NewTicketID(), alice, domain.Listing{Title: "Old one", Price: price(1)}, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	young, _ := domain.NewTicket(adapters.NewTicketID(), alice, domain.Listing{Title: "Young one", Price: price(1)}, time.Now())
	_ = f.tickets.Add(ctx, old)
	_ = f.tickets.Add(ctx, young)

	f.permissions.SetErr(errKetoIsDown)
	if n, err := f.app.RepairGrants.Handle(ctx); n != 0 || err == nil {
		t.Fatalf("with Keto down: repaired %d, %v; want 0 and an error", n, err)
	}
	f.permissions.SetErr(nil)
	if n, err := f.app.RepairGrants.Handle(ctx); n != 1 || err != nil {
		t.Fatalf("repaired %d, %v; want 1", n, err)
	}
	if f.tickets.GrantsPending(old.ID()) || f.permissions.Owner(old.ID()) != alice {
		t.Error("the old ticket was not repaired")
	}
	if !f.tickets.GrantsPending(young.ID()) || f.permissions.Owner(young.ID()) != "" {
		t.Error("a ticket younger than the grace period was touched")
	}
	if n, _ := f.app.RepairGrants.Handle(ctx); n != 0 {
		t.Errorf("a second pass repaired %d", n)
	}
}

func TestEditTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		user        string
		id          func(existing string) string
		reserved    bool
		ketoErr     error
		title       *string
		wantStatus  int // 0: success
		wantVersion int64
	}{
		{name: "owner", user: alice, title: str("Rock Night"), wantVersion: 1},
		{name: "admin", user: admin, title: str("Rock Night"), wantVersion: 1},
		{name: "owner, same title", user: alice, title: str("Jazz Night"), wantVersion: 0},
		{name: "stranger", user: bob, title: str("Rock Night"), wantStatus: 403},
		{name: "unknown ticket", user: alice, id: func(string) string { return adapters.NewTicketID() }, title: str("Rock Night"), wantStatus: 404},
		{name: "malformed id", user: alice, id: func(string) string { return "nope" }, title: str("Rock Night"), wantStatus: 400},
		{name: "nothing to change", user: alice, wantStatus: 400},
		{name: "invalid title", user: alice, title: str("ab"), wantStatus: 400},
		{name: "reserved", user: alice, reserved: true, title: str("Rock Night"), wantStatus: 409},
		{name: "keto down", user: alice, ketoErr: errKetoIsDown, title: str("Rock Night"), wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture()
			ticket := f.create(t, alice)
			id := ticket.ID()
			if tt.id != nil {
				id = tt.id(id)
			}
			if tt.reserved {
				if err := f.app.ApplyOrder.Handle(context.Background(), app.ApplyOrder{TicketID: ticket.ID(),
					Event: domain.OrderEvent{Kind: domain.OrderCreated, OrderID: orderA, Price: 2500, Currency: "eur"}}); err != nil {
					t.Fatal(err)
				}
			}
			f.permissions.SetErr(tt.ketoErr)
			got, err := f.app.EditTicket.Handle(context.Background(), app.EditTicket{TicketID: id, UserID: tt.user, Title: tt.title})
			if tt.wantStatus != 0 {
				if apierr.Status(err) != tt.wantStatus {
					t.Fatalf("Handle() = %v, want %d", err, tt.wantStatus)
				}
				return
			}
			if err != nil || got.Version() != tt.wantVersion || got.Title() != *tt.title {
				t.Fatalf("Handle() = %+v, %v", got, err)
			}
		})
	}
}

func TestApplyOrder(t *testing.T) {
	t.Parallel()
	f := newFixture()
	ctx := context.Background()
	ticket := f.create(t, alice)
	apply := func(kind domain.OrderEventKind, order string, version int64) error {
		return f.app.ApplyOrder.Handle(ctx, app.ApplyOrder{TicketID: ticket.ID(),
			Event: domain.OrderEvent{Kind: kind, OrderID: order, OrderVersion: version, Price: 2500, Currency: "eur"}})
	}
	if err := apply(domain.OrderCreated, orderA, 0); err != nil {
		t.Fatal(err)
	}
	if err := apply(domain.OrderCreated, orderA, 0); err != nil {
		t.Fatalf("a redelivered event: %v, want success", err)
	}
	if err := apply(domain.OrderCreated, orderB, 0); !errors.Is(err, domain.ErrHeldByAnotherOrder) {
		t.Fatalf("another order's created: %v, want ErrHeldByAnotherOrder (retried)", err)
	}
	unknown := app.ApplyOrder{TicketID: adapters.NewTicketID(), Event: domain.OrderEvent{Kind: domain.OrderCreated, OrderID: orderA, Price: 2500, Currency: "eur"}}
	if err := f.app.ApplyOrder.Handle(ctx, unknown); err != nil {
		t.Fatalf("an event for an unknown ticket: %v, want it acknowledged", err)
	}
	view, _ := f.app.GetTicket.Handle(ctx, app.GetTicket{TicketID: ticket.ID()})
	got := view.Ticket
	if got.Status() != domain.StatusReserved || got.OrderID() != orderA || got.Version() != 1 {
		t.Errorf("ticket %+v, want reserved for A at version 1", got.Snapshot())
	}
}

func TestListTickets_ReportsWhetherMoreFollow(t *testing.T) {
	t.Parallel()
	f := newFixture()
	for range 3 {
		f.create(t, alice)
	}
	tests := []struct {
		limit    int
		wantLen  int
		wantMore bool
	}{{2, 2, true}, {3, 3, false}, {4, 3, false}}
	for _, tt := range tests {
		page, err := f.app.ListTickets.Handle(context.Background(), app.ListTickets{Limit: tt.limit})
		if err != nil || len(page.Tickets) != tt.wantLen || page.More != tt.wantMore {
			t.Errorf("limit %d: %d tickets, more %v, %v; want %d, %v", tt.limit, len(page.Tickets), page.More, err, tt.wantLen, tt.wantMore)
		}
	}
}
