package adapters_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
)

// TestMongoRepository_EachChangeStoresItsEventAndTheActiveKey reads back
// the stored documents: FerretDB gets some writes wrong silently, so what
// each write was meant to do is checked on the server.
func TestMongoRepository_EachChangeStoresItsEventAndTheActiveKey(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	repo := newMongoRepository(t, db)
	ctx := logging.WithRequestID(context.Background(), "req-1")
	ticketID := newTicketID()
	o := newOrder(t, repo, "buyer-1", "seller", ticketID)
	if err := repo.Add(ctx, o, testHolds); err != nil {
		t.Fatal(err)
	}
	raw := func() bson.M {
		var doc bson.M
		if err := db.Collection(adapters.OrdersCollection).FindOne(ctx, bson.M{"_id": o.ID()}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := raw()
	if doc["activeTicketId"] != ticketID || doc["grantsPending"] != true || doc["status"] != "created" {
		t.Fatalf("new order stored as %v", doc)
	}
	if doc["ticket"].(bson.M)["userId"] != "seller" || doc["userId"] != "buyer-1" {
		t.Fatalf("buyer and seller stored as %v / %v", doc["userId"], doc["ticket"])
	}
	if _, err := repo.Update(ctx, o.ID(), cancel); err != nil {
		t.Fatal(err)
	}
	doc = raw()
	if _, held := doc["activeTicketId"]; held || doc["status"] != "cancelled" || doc["version"] != int64(1) {
		t.Fatalf("cancelled order stored as %v; want no activeTicketId, version 1", doc)
	}
	if doc["grantsPending"] != true {
		t.Fatal("a change cleared the grants flag")
	}

	pending, err := repo.Outbox().Pending(ctx, 10)
	if err != nil || len(pending) != 1 || len(pending[0].Events) != 2 {
		t.Fatalf("outbox = %+v, %v; want order.created and order.cancelled", pending, err)
	}
	for i, want := range []struct {
		name    events.Name
		status  string
		version int64
	}{{events.OrderCreated, "created", 0}, {events.OrderCancelled, "cancelled", 1}} {
		e := pending[0].Events[i]
		data, err := events.DecodeData[events.Order](e)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != want.name || data.Status != want.status || data.Version != want.version || e.CorrelationID != "req-1" {
			t.Errorf("event %d: %s %+v (correlation %q); want %s with status %s, version %d", i, e.Type, data, e.CorrelationID, want.name, want.status, want.version)
		}
		if data.Ticket.ID != ticketID || data.Ticket.UserID != "seller" || data.UserID != "buyer-1" || !data.ExpiresAt.Equal(o.ExpiresAt()) {
			t.Errorf("event %d does not carry the whole order: %+v", i, data)
		}
	}

	if err := repo.GrantsDone(ctx, o.ID()); err != nil {
		t.Fatal(err)
	}
	doc = raw()
	if _, flagged := doc["grantsPending"]; flagged || doc["version"] != int64(1) || len(doc["outbox"].(bson.A)) != 2 {
		t.Fatalf("GrantsDone stored %v; want the flag gone, version and outbox kept", doc)
	}
	if err := repo.Outbox().MarkPublished(ctx, o.ID(), []string{pending[0].Events[0].ID, pending[0].Events[1].ID}); err != nil {
		t.Fatal(err)
	}
	if pending, _ := repo.Outbox().Pending(ctx, 10); len(pending) != 0 {
		t.Fatalf("published events still pending: %+v", pending)
	}
}

func TestMongoRepository_CompleteAndRefundStoreTheirEvents(t *testing.T) {
	t.Parallel()
	repo := newMongoRepository(t, newDatabase(t))
	ctx := context.Background()
	o := newOrder(t, repo, "buyer-1", "seller", newTicketID())
	if err := repo.Add(ctx, o, testHolds); err != nil {
		t.Fatal(err)
	}
	const payment = "aaaaaaaaaaaaaaaaaaaaaaaa"
	for _, change := range []func(*domain.Order) (bool, error){
		func(o *domain.Order) (bool, error) { return reserveAndComplete(o, payment) },
		func(o *domain.Order) (bool, error) { return o.Refund(payment), nil },
	} {
		if _, err := repo.Update(ctx, o.ID(), change); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := repo.Outbox().Pending(ctx, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("outbox = %+v, %v", pending, err)
	}
	var got []string
	for _, e := range pending[0].Events {
		data, err := events.DecodeData[events.Order](e)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s v%d %s", e.Type, data.Version, data.PaymentID))
	}
	want := []string{"order.created.v1 v0 ", "order.completed.v1 v1 " + payment, "order.refunded.v1 v2 " + payment}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// replicas are the ticket replica implementations the replica tests run
// against.
func forEachReplica(t *testing.T, test func(t *testing.T, r domain.TicketReplica)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, adapters.NewMemoryTicketReplica())
	})
	t.Run("mongo", func(t *testing.T) {
		t.Parallel()
		test(t, adapters.NewMongoTicketReplica(newDatabase(t)))
	})
}

func ticketAt(id string, version int64) domain.Ticket {
	return domain.Ticket{
		ID: id, Title: fmt.Sprintf("Concert v%d", version), Price: 100 * version, Currency: "eur",
		SellerID: "seller", Status: "available", Version: version,
	}
}

func TestTicketReplica_ConvergesOnTheNewestWhateverTheOrder(t *testing.T) {
	t.Parallel()
	forEachReplica(t, func(t *testing.T, r domain.TicketReplica) {
		ctx := context.Background()
		id := newTicketID()
		// Versions 0..19, each delivered twice, shuffled, applied concurrently.
		var deliveries []int64
		for v := range int64(20) {
			deliveries = append(deliveries, v, v)
		}
		rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		var wg sync.WaitGroup
		for _, v := range deliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Apply(ctx, ticketAt(id, v)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, err := r.Get(ctx, id)
		if err != nil || got != ticketAt(id, 19) {
			t.Fatalf("replica holds %+v, %v; want version 19", got, err)
		}
	})
}

func TestTicketReplica_DuplicatesAndOlderVersionsChangeNothing(t *testing.T) {
	t.Parallel()
	forEachReplica(t, func(t *testing.T, r domain.TicketReplica) {
		ctx := context.Background()
		id := newTicketID()
		steps := []struct {
			version int64
			applied bool
		}{{2, true}, {2, false}, {1, false}, {0, false}, {3, true}, {5, true}, {4, false}}
		for _, s := range steps {
			applied, err := r.Apply(ctx, ticketAt(id, s.version))
			if err != nil || applied != s.applied {
				t.Fatalf("Apply(v%d) = %v, %v; want %v", s.version, applied, err, s.applied)
			}
		}
		if got, _ := r.Get(ctx, id); got.Version != 5 {
			t.Fatalf("replica at version %d, want 5", got.Version)
		}
		if _, err := r.Get(ctx, newTicketID()); err != domain.ErrTicketNotFound {
			t.Fatalf("unknown ticket: %v", err)
		}
	})
}
