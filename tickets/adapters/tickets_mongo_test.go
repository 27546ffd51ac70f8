package adapters_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/domain"
)

// storedDocument reads a ticket's raw document: what the write meant, not
// what the repository's own reader makes of it.
type storedDocument struct {
	ID            string            `bson:"_id"`
	UserID        string            `bson:"userId"`
	Title         string            `bson:"title"`
	TitleLower    string            `bson:"titleLower"`
	Price         int64             `bson:"price"`
	Currency      string            `bson:"currency"`
	Status        string            `bson:"status"`
	OrderID       *string           `bson:"orderId"`
	Version       int64             `bson:"version"`
	SeenOrders    map[string]int64  `bson:"seenOrders"`
	SeenFloor     string            `bson:"seenOrdersFloor"`
	GrantsPending *bool             `bson:"grantsPending"`
	OutboxPending bool              `bson:"outboxPending"`
	Outbox        []events.Envelope `bson:"outbox"`
}

func readDocument(t *testing.T, db *mongo.Database, id string) storedDocument {
	t.Helper()
	var d storedDocument
	if err := db.Collection(adapters.TicketsCollection).FindOne(context.Background(), bson.M{"_id": id}).Decode(&d); err != nil {
		t.Fatalf("read ticket %s: %v", id, err)
	}
	return d
}

// eventData decodes the outbox's ticket events.
func eventData(t *testing.T, d storedDocument) ([]events.Name, []events.Ticket) {
	t.Helper()
	names := make([]events.Name, len(d.Outbox))
	data := make([]events.Ticket, len(d.Outbox))
	for i, e := range d.Outbox {
		names[i] = e.Type
		p, err := events.DecodeData[events.Ticket](e)
		if err != nil {
			t.Fatalf("outbox event %d: %v", i, err)
		}
		data[i] = p
	}
	return names, data
}

func TestMongoRepository_AddStoresTheTicketFlaggedWithItsCreatedEvent(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ticket := add(t, r, alice, "Jazz Night")[0]
	d := readDocument(t, db, ticket.ID())
	if d.UserID != alice || d.Title != "Jazz Night" || d.TitleLower != "jazz night" || d.Price != 2500 ||
		d.Currency != "eur" || d.Status != "available" || d.OrderID != nil || d.Version != 0 {
		t.Errorf("stored %+v", d)
	}
	if d.GrantsPending == nil || !*d.GrantsPending {
		t.Errorf("grantsPending = %v, want true until the tuples are written", d.GrantsPending)
	}
	names, data := eventData(t, d)
	want := events.Ticket{ID: ticket.ID(), Title: "Jazz Night", Price: 2500, Currency: "eur", UserID: alice, Status: "available", Version: 0}
	if !d.OutboxPending || len(names) != 1 || names[0] != events.TicketCreated || data[0] != want {
		t.Errorf("outbox %v %+v (pending %v), want one %s with %+v", names, data, d.OutboxPending, events.TicketCreated, want)
	}
	pending, err := r.Outbox().Pending(context.Background(), 10)
	if err != nil || len(pending) != 1 || pending[0].AggregateID != ticket.ID() {
		t.Errorf("Outbox().Pending() = %+v, %v", pending, err)
	}
}

func TestMongoRepository_UpdateRecordsTicketUpdatedWithTheWholeState(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ctx := context.Background()
	ticket := add(t, r, alice, "Jazz Night")[0]
	const order = "65f0000000000000000000aa"
	reserve(t, r, ticket.ID(), order)
	d := readDocument(t, db, ticket.ID())
	names, data := eventData(t, d)
	want := events.Ticket{ID: ticket.ID(), Title: "Jazz Night", Price: 2500, Currency: "eur", UserID: alice, Status: "reserved", OrderID: order, Version: 1}
	if len(names) != 2 || names[1] != events.TicketUpdated || data[1] != want {
		t.Fatalf("outbox %v %+v, want %s then %s with %+v", names, data, events.TicketCreated, events.TicketUpdated, want)
	}
	if d.Status != "reserved" || d.OrderID == nil || *d.OrderID != order || d.Version != 1 || d.SeenOrders[order] != 0 {
		t.Errorf("stored %+v", d)
	}

	// A change that keeps the version (an order event only recorded as
	// seen) stores no event; a duplicate writes nothing at all.
	const other = "65f0000000000000000000bb"
	if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCancelled, OrderID: other, OrderVersion: 1, Price: 2500, Currency: "eur"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCancelled, OrderID: other, OrderVersion: 1, Price: 2500, Currency: "eur"})
	}); err != nil {
		t.Fatal(err)
	}
	d = readDocument(t, db, ticket.ID())
	if len(d.Outbox) != 2 || d.Version != 1 || d.SeenOrders[other] != 1 {
		t.Errorf("after another order's cancellation: version %d, outbox %d, seen %v; want 1, 2 and %s seen at 1", d.Version, len(d.Outbox), d.SeenOrders, other)
	}

	// Releasing clears orderId from the stored document.
	if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCancelled, OrderID: order, OrderVersion: 1, Price: 2500, Currency: "eur"})
	}); err != nil {
		t.Fatal(err)
	}
	d = readDocument(t, db, ticket.ID())
	if d.Status != "available" || d.OrderID != nil || d.Version != 2 || len(d.Outbox) != 3 {
		t.Errorf("after release: %+v", d)
	}
}

func TestMongoRepository_MarkGrantedRemovesTheFlagOnly(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ticket := add(t, r, alice, "Jazz Night")[0]
	if err := r.MarkGranted(context.Background(), ticket.ID()); err != nil {
		t.Fatal(err)
	}
	d := readDocument(t, db, ticket.ID())
	if d.GrantsPending != nil || d.Version != 0 || len(d.Outbox) != 1 {
		t.Errorf("after MarkGranted: grantsPending %v, version %d, outbox %d; want absent, 0, 1", d.GrantsPending, d.Version, len(d.Outbox))
	}
	if err := r.MarkGranted(context.Background(), adapters.NewTicketID()); !errors.Is(err, domain.ErrTicketNotFound) {
		t.Errorf("MarkGranted(unknown) = %v", err)
	}
}

func TestMongoRepository_ConcurrentOrderEventsEndConsistent(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ctx := context.Background()
	ticket := add(t, r, alice, "Contended")[0]
	// As many orders as a ticket remembers, each applying created then
	// cancelled from its own goroutine; a created event waits (retries)
	// while another order holds the ticket, as the consumer would. (Beyond
	// domain.MaxSeenOrders the oldest ids are forgotten and a late event
	// of one counts as seen: TestApplyOrder_RemembersABoundedNumberOfOrders.)
	const orders = domain.MaxSeenOrders
	var wg sync.WaitGroup
	for i := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := fmt.Sprintf("65f0000000000000000001%02x", i)
			for _, e := range []domain.OrderEvent{
				{Kind: domain.OrderCreated, OrderID: order, OrderVersion: 0, Price: 2500, Currency: "eur"},
				{Kind: domain.OrderCancelled, OrderID: order, OrderVersion: 1, Price: 2500, Currency: "eur"},
			} {
				deadline := time.Now().Add(30 * time.Second)
				for {
					_, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error { return tk.ApplyOrder(e) })
					if err == nil {
						break
					}
					if !errors.Is(err, domain.ErrHeldByAnotherOrder) || time.Now().After(deadline) {
						t.Errorf("order %s %s: %v", order, e.Kind, err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()

	d := readDocument(t, db, ticket.ID())
	if d.Status != "available" || d.OrderID != nil || d.Version != 2*orders || len(d.SeenOrders) != orders {
		t.Fatalf("after %d orders: status %s, order %v, version %d, seen %d; want available, none, %d, %d",
			orders, d.Status, d.OrderID, d.Version, len(d.SeenOrders), 2*orders, orders)
	}
	// The events tell the same story, one per version, in order: each
	// reservation is released by the order that made it.
	names, data := eventData(t, d)
	if len(names) != 2*orders+1 {
		t.Fatalf("%d events, want %d", len(names), 2*orders+1)
	}
	for i, e := range data {
		if e.Version != int64(i) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
		if i == 0 {
			continue
		}
		if i%2 == 1 && (e.Status != "reserved" || e.OrderID == "") {
			t.Fatalf("event %d: %+v, want a reservation", i, e)
		}
		if i%2 == 0 && (e.Status != "available" || data[i-1].OrderID == "") {
			t.Fatalf("event %d: %+v, want the release of %s", i, e, data[i-1].OrderID)
		}
	}
	raw, _ := json.Marshal(d.SeenOrders)
	for order, v := range d.SeenOrders {
		if v != 1 {
			t.Fatalf("seen orders %s: %s at %d, want 1", raw, order, v)
		}
	}
}

func TestMongoRepository_ARefusedOrderIsPublishedWithTheTicketUnchanged(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ctx := context.Background()
	ticket := add(t, r, alice, "Jazz Night")[0]
	const order = "65f0000000000000000000aa"
	if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCreated, OrderID: order, Price: 2000, Currency: "eur"})
	}); err != nil {
		t.Fatal(err)
	}
	d := readDocument(t, db, ticket.ID())
	if d.Status != "available" || d.Version != 0 || d.SeenOrders[order] != 0 || len(d.Outbox) != 2 {
		t.Fatalf("after a refusal: %+v; want available at version 0, the order seen, two events", d)
	}
	e := d.Outbox[1]
	got, err := events.DecodeData[events.ReservationRefusal](e)
	want := events.ReservationRefusal{
		OrderID: order, OrderVersion: 0, Reason: events.RefusalPriceChanged,
		Ticket: events.Ticket{ID: ticket.ID(), Title: "Jazz Night", Price: 2500, Currency: "eur", UserID: alice, Status: "available", Version: 0},
	}
	if e.Type != events.TicketReservationRefused || err != nil || got != want {
		t.Fatalf("outbox event %s %+v (%v), want %s %+v", e.Type, got, err, events.TicketReservationRefused, want)
	}
}

func TestMongoRepository_TheSeenOrdersFloorRoundTrips(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ctx := context.Background()
	ticket := add(t, r, alice, "Jazz Night")[0]
	for i := range domain.MaxSeenOrders + 2 {
		order := fmt.Sprintf("65f0000000000000000001%02x", i)
		if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
			return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCancelled, OrderID: order, OrderVersion: 1, Price: 2500, Currency: "eur"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	d := readDocument(t, db, ticket.ID())
	if len(d.SeenOrders) != domain.MaxSeenOrders || d.SeenFloor != "65f000000000000000000101" {
		t.Fatalf("stored %d seen orders, floor %q; want %d and the second order's id", len(d.SeenOrders), d.SeenFloor, domain.MaxSeenOrders)
	}
	// The forgotten first order's late creation is still a duplicate.
	if _, err := r.Update(ctx, ticket.ID(), func(tk *domain.Ticket) error {
		return tk.ApplyOrder(domain.OrderEvent{Kind: domain.OrderCreated, OrderID: "65f000000000000000000100", Price: 2500, Currency: "eur"})
	}); err != nil {
		t.Fatal(err)
	}
	if d := readDocument(t, db, ticket.ID()); d.Status != "available" || d.Version != 0 {
		t.Fatalf("a forgotten order's event changed the ticket: %s v%d", d.Status, d.Version)
	}
}
