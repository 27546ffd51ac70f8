package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/tickets/domain"
)

func newTicket(t *testing.T) *domain.Ticket {
	t.Helper()
	ticket, err := domain.NewTicket(ticketID, sellerID, domain.Listing{Title: "Jazz Night", Price: price(2500)}, listedAt)
	if err != nil {
		t.Fatal(err)
	}
	return ticket
}

func TestNewChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		title      *string
		price      *int64
		currency   *string
		wantStatus int
		wantFields string
	}{
		{name: "title only", title: str("Rock")},
		{name: "price only", price: price(0)},
		{name: "currency only", currency: str("usd")},
		{name: "nothing", wantStatus: 400},
		{name: "bad title and price", title: str("ab"), price: price(-1), wantStatus: 400, wantFields: "title,price"},
		{name: "unknown currency", currency: str("abc"), wantStatus: 400, wantFields: "currency"},
		{name: "price over the maximum", price: price(domain.MaxPrice + 1), wantStatus: 400, wantFields: "price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewChanges(tt.title, tt.price, tt.currency)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("NewChanges() = %v", err)
				}
				return
			}
			if apierr.Status(err) != tt.wantStatus || strings.Join(fields(err), ",") != tt.wantFields {
				t.Errorf("NewChanges() = %v (fields %v), want %d naming %q", err, fields(err), tt.wantStatus, tt.wantFields)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		hold        *domain.OrderEvent // applied first
		title       *string
		price       *int64
		wantErr     error
		wantVersion int64
		wantTitle   string
	}{
		{name: "available: title changes", title: str("  Rock Night "), wantVersion: 1, wantTitle: "Rock Night"},
		{name: "available: same values", title: str("Jazz Night"), price: price(2500), wantErr: domain.ErrNoChange, wantVersion: 0, wantTitle: "Jazz Night"},
		{name: "reserved: locked", hold: &domain.OrderEvent{Kind: domain.OrderCreated, OrderID: orderA, Price: 2500, Currency: "eur"}, title: str("Rock"), wantErr: domain.ErrTicketLocked, wantVersion: 1, wantTitle: "Jazz Night"},
		{name: "sold: locked", hold: &domain.OrderEvent{Kind: domain.OrderCompleted, OrderID: orderA, OrderVersion: 1, Price: 2500, Currency: "eur"}, price: price(1), wantErr: domain.ErrTicketLocked, wantVersion: 1, wantTitle: "Jazz Night"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticket := newTicket(t)
			if tt.hold != nil {
				if err := ticket.ApplyOrder(*tt.hold); err != nil {
					t.Fatal(err)
				}
			}
			changes, err := domain.NewChanges(tt.title, tt.price, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = ticket.Edit(changes)
			if !errors.Is(err, tt.wantErr) || ticket.Version() != tt.wantVersion || ticket.Title() != tt.wantTitle {
				t.Errorf("Edit() = %v, version %d, title %q; want %v, %d, %q", err, ticket.Version(), ticket.Title(), tt.wantErr, tt.wantVersion, tt.wantTitle)
			}
		})
	}
	if apierr.Status(domain.ErrTicketLocked) != 409 {
		t.Errorf("ErrTicketLocked is %d, want 409", apierr.Status(domain.ErrTicketLocked))
	}
}

func TestSnapshotRestore_RoundTrips(t *testing.T) {
	t.Parallel()
	ticket := newTicket(t)
	if err := ticket.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCreated, OrderID: orderA, OrderVersion: 0, Price: 2500, Currency: "eur"}); err != nil {
		t.Fatal(err)
	}
	snap := ticket.Snapshot()
	restored, err := domain.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	got := restored.Snapshot()
	if got.ID != snap.ID || got.Status != domain.StatusReserved || got.OrderID != orderA || got.Version != 1 || got.SeenOrders[orderA] != 0 || len(got.SeenOrders) != 1 {
		t.Errorf("restored %+v, want %+v", got, snap)
	}
	snap.SeenOrders[orderB] = 7 // a snapshot is a copy
	if _, seen := restored.SeenOrderVersion(orderB); seen {
		t.Error("changing a snapshot changed the ticket")
	}
}

func TestRestore_RejectsCorruptState(t *testing.T) {
	t.Parallel()
	valid := newTicket(t).Snapshot()
	tests := []struct {
		name   string
		mutate func(*domain.Snapshot)
	}{
		{"bad id", func(s *domain.Snapshot) { s.ID = "x" }},
		{"no seller", func(s *domain.Snapshot) { s.SellerID = "" }},
		{"unknown status", func(s *domain.Snapshot) { s.Status = "lost" }},
		{"reserved without order", func(s *domain.Snapshot) { s.Status = domain.StatusReserved }},
		{"available with order", func(s *domain.Snapshot) { s.OrderID = orderA }},
		{"negative price", func(s *domain.Snapshot) { s.Price = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid
			tt.mutate(&s)
			if _, err := domain.Restore(s); apierr.Status(err) != 500 {
				t.Errorf("Restore() = %v, want an internal error", err)
			}
		})
	}
}
