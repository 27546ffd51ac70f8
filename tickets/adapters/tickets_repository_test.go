package adapters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/testenv"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

const (
	alice = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	bob   = "9b2f6c1e-2a3d-4e5f-8a7b-6c5d4e3f2a1b"
)

// repository is one implementation under test.
type repository struct {
	name string
	new  func(t *testing.T) app.Tickets
}

// repositories are every implementation of app.Tickets: the shared cases
// run against each, so the in-memory twin the other tests use behaves like
// the real store.
var repositories = []repository{
	{name: "memory", new: func(*testing.T) app.Tickets { return adapters.NewMemoryTicketRepository() }},
	{name: "mongo", new: func(t *testing.T) app.Tickets { r, _ := newMongoRepository(t); return r }},
}

// newMongoRepository returns a repository on a fresh database of the test
// stack's FerretDB, dropped after the test.
func newMongoRepository(t *testing.T) (*adapters.MongoTicketRepository, *mongo.Database) {
	t.Helper()
	uri := testenv.Require(t, "TEST_MONGO_URI")
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	db := client.Database(fmt.Sprintf("tickets_test_%d_%s", time.Now().UnixNano(), hex.EncodeToString(suffix[:])))
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	r, err := adapters.NewMongoTicketRepository(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Creating the indexes again is a no-op.
	if _, err := adapters.NewMongoTicketRepository(context.Background(), db, nil); err != nil {
		t.Fatalf("indexes are not idempotent: %v", err)
	}
	return r, db
}

// forEachRepository runs test against every implementation in parallel.
func forEachRepository(t *testing.T, test func(t *testing.T, r app.Tickets)) {
	t.Helper()
	for _, impl := range repositories {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			test(t, impl.new(t))
		})
	}
}

// listed is a valid new ticket listed by seller at the given time.
func listed(t *testing.T, seller, title string, at time.Time) *domain.Ticket {
	t.Helper()
	price := int64(2500)
	ticket, err := domain.NewTicket(adapters.NewTicketID(), seller, domain.Listing{Title: title, Price: &price}, at)
	if err != nil {
		t.Fatal(err)
	}
	return ticket
}

// add lists the tickets in order (so later ones have higher ids).
func add(t *testing.T, r app.Tickets, seller string, titles ...string) []*domain.Ticket {
	t.Helper()
	out := make([]*domain.Ticket, len(titles))
	for i, title := range titles {
		out[i] = listed(t, seller, title, time.Now().UTC().Truncate(time.Millisecond))
		if err := r.Add(context.Background(), out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func reserve(t *testing.T, r app.Tickets, id, orderID string) {
	t.Helper()
	_, err := r.Update(context.Background(), id, func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCreated, OrderID: orderID, Price: tk.Price(), Currency: tk.Currency()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func titles(ts []*domain.Ticket) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Title()
	}
	return strings.Join(out, "|")
}

func TestRepository_AddThenGet(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		want := add(t, r, alice, "Jazz Night")[0]
		got, err := r.Get(ctx, want.ID())
		if err != nil {
			t.Fatal(err)
		}
		g, w := got.Snapshot(), want.Snapshot()
		if g.ID != w.ID || g.Title != w.Title || g.Price != w.Price || g.Currency != w.Currency || g.SellerID != alice ||
			g.Status != domain.StatusAvailable || g.Version != 0 || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("Get() = %+v, want %+v", g, w)
		}
		if _, err := r.Get(ctx, adapters.NewTicketID()); !errors.Is(err, domain.ErrTicketNotFound) {
			t.Errorf("Get(unknown) = %v, want ErrTicketNotFound", err)
		}
	})
}

func TestRepository_UpdateAppliesTheChange(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		ticket := add(t, r, alice, "Jazz Night")[0]
		changes, _ := domain.NewChanges(strPtr("Rock Night"), nil, nil)
		updated, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error { return tk.Edit(changes) })
		if err != nil || updated.Title() != "Rock Night" || updated.Version() != 1 {
			t.Fatalf("Update() = %+v, %v", updated, err)
		}
		got, _ := r.Get(ctx, ticket.ID())
		if got.Title() != "Rock Night" || got.Version() != 1 {
			t.Errorf("stored %+v after the update", got.Snapshot())
		}
	})
}

func TestRepository_UpdateReturnsTheChangesErrorsAndWritesNothing(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		ticket := add(t, r, alice, "Jazz Night")[0]
		unchanged, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
			_ = tk.Edit(mustChanges(t, "Changed in memory only"))
			return domain.ErrNoChange
		})
		if err != nil || unchanged.Title() != "Jazz Night" || unchanged.Version() != 0 {
			t.Errorf("Update() with ErrNoChange = %+v, %v; want the stored ticket, unchanged", unchanged, err)
		}
		reserve(t, r, ticket.ID(), "65f0000000000000000000aa")
		_, err = r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error { return tk.Edit(mustChanges(t, "Rock")) })
		if !errors.Is(err, domain.ErrTicketLocked) {
			t.Errorf("Update() of a reserved ticket = %v, want ErrTicketLocked", err)
		}
		got, _ := r.Get(ctx, ticket.ID())
		if got.Title() != "Jazz Night" || got.Version() != 1 || got.Status() != domain.StatusReserved {
			t.Errorf("stored %+v, want the reserved ticket unchanged", got.Snapshot())
		}
		if _, err := r.Update(ctx, adapters.NewTicketID(), func(*domain.Ticket) error { return nil }); !errors.Is(err, domain.ErrTicketNotFound) {
			t.Errorf("Update(unknown) = %v, want ErrTicketNotFound", err)
		}
	})
}

func TestRepository_GrantsPendingUntilMarked(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		old := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
		first, second := listed(t, alice, "First", old), listed(t, alice, "Second", old)
		recent := listed(t, alice, "Recent", time.Now().UTC())
		for _, tk := range []*domain.Ticket{first, second, recent} {
			if err := r.Add(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		cutoff := time.Now().UTC().Add(-30 * time.Second)
		pending, err := r.PendingGrants(ctx, cutoff, 10)
		if err != nil || titles(pending) != "First|Second" {
			t.Fatalf("PendingGrants() = %s, %v; want First|Second (Recent is too young)", titles(pending), err)
		}
		if err := r.MarkGranted(ctx, first.ID()); err != nil {
			t.Fatal(err)
		}
		if err := r.MarkGranted(ctx, first.ID()); err != nil {
			t.Fatalf("marking twice: %v", err)
		}
		pending, _ = r.PendingGrants(ctx, cutoff, 10)
		if titles(pending) != "Second" {
			t.Errorf("after MarkGranted, PendingGrants() = %s, want Second", titles(pending))
		}
		if got, _ := r.Get(ctx, first.ID()); got.Version() != 0 {
			t.Errorf("MarkGranted raised the version to %d", got.Version())
		}
	})
}

func TestRepository_ListsAvailableNewestFirstInKeysetPages(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		ts := add(t, r, alice, "T-1", "T-2", "T-3", "T-4", "T-5", "T-6")
		reserve(t, r, ts[3].ID(), "65f0000000000000000000aa") // T-4 leaves the available list
		var pages []string
		after := ""
		for range 10 {
			page, err := r.List(ctx, app.TicketFilter{After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, titles(page))
			after = page[len(page)-1].ID()
		}
		if got, want := strings.Join(pages, " / "), "T-6|T-5 / T-3|T-2 / T-1"; got != want {
			t.Errorf("pages %q, want %q", got, want)
		}
	})
}

func TestRepository_ListsASellersTicketsInEveryStatus(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		mine := add(t, r, alice, "A-1", "A-2", "A-3")
		add(t, r, bob, "B-1")
		reserve(t, r, mine[1].ID(), "65f0000000000000000000aa")
		got, err := r.List(ctx, app.TicketFilter{SellerID: alice, Limit: 10})
		if err != nil || titles(got) != "A-3|A-2|A-1" {
			t.Errorf("List(mine) = %s, %v; want A-3|A-2|A-1", titles(got), err)
		}
		got, _ = r.List(ctx, app.TicketFilter{SellerID: alice, Title: "a-2", Limit: 10})
		if titles(got) != "A-2" {
			t.Errorf("List(mine, title a-2) = %s, want A-2", titles(got))
		}
	})
}

func TestRepository_TitleSearchMatchesTheLiteralTextOnly(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, r app.Tickets) {
		ctx := context.Background()
		add(t, r, alice, "Jazz Night", "a.b live", "axb live", "Paren (live)", "Star * show", `Back\slash`,
			"Dollar $5", "Caret ^ top", "[Bracket]", "a+b", "q?mark", "pipe|x", "brace{2}", "ÉCOLE Über", "plain")
		tests := []struct{ search, want string }{
			{"jazz", "Jazz Night"},
			{"JAZZ", "Jazz Night"},
			{"a.b", "a.b live"},
			{"(", "Paren (live)"},
			{"*", "Star * show"},
			{`\`, `Back\slash`},
			{"$", "Dollar $5"},
			{"^", "Caret ^ top"},
			{"[", "[Bracket]"},
			{"+", "a+b"},
			{"?", "q?mark"},
			{"|", "pipe|x"},
			{"{2}", "brace{2}"},
			{".*(", ""},
			{"école", "ÉCOLE Über"},
			{"ÜBER", "ÉCOLE Über"},
			{"live", "Paren (live)|axb live|a.b live"},
		}
		for _, tt := range tests {
			search, err := domain.NewTitleSearch(tt.search)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.List(ctx, app.TicketFilter{Title: search, Limit: 50})
			if err != nil || titles(got) != tt.want {
				t.Errorf("search %q = %q, %v; want %q", tt.search, titles(got), err, tt.want)
			}
		}
	})
}

func strPtr(s string) *string { return &s }

func mustChanges(t *testing.T, title string) domain.Changes {
	t.Helper()
	c, err := domain.NewChanges(&title, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
