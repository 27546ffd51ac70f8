package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/pkg/events"
)

// Event delivery end to end: events crafted here are published straight to
// RabbitMQ, as a redelivering, reordering or misbehaving broker or
// producer would deliver them, and the services' state is read back
// through their APIs and databases.

var (
	brokerOnce sync.Once
	broker     *events.Connection
	publisher  *events.Publisher
)

// publish sends events to the exchange with confirms.
func publish(t testing.TB, envs ...events.Envelope) {
	t.Helper()
	brokerOnce.Do(func() {
		broker = events.NewConnection(stackEnv["TEST_RABBITMQ_URL"], slog.New(slog.NewTextHandler(io.Discard, nil)))
		publisher = events.NewPublisher(broker)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := publisher.Publish(ctx, envs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// queueDepth is the number of ready messages in a queue (passive declare).
func queueDepth(t testing.TB, queue string) int {
	t.Helper()
	publish(t) // opens the connection
	n, err := readyMessages(queue)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readyMessages is queueDepth for callers outside the test's goroutine,
// once publish has opened the connection.
func readyMessages(queue string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := broker.Channel(ctx)
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		return 0, fmt.Errorf("inspect %s: %w", queue, err)
	}
	return q.Messages, nil
}

func envelope(t testing.TB, name events.Name, data any) events.Envelope {
	t.Helper()
	e, err := events.New(name, data, events.Meta{CorrelationID: "e2e-" + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// craftedOrder is an order.* event of an order the orders service never
// stored, for ticket tk.
func craftedOrder(t testing.TB, name events.Name, orderID string, version int64, status string, tk ticketJSON) events.Envelope {
	t.Helper()
	return envelope(t, name, events.Order{
		ID: orderID, UserID: "00000000-0000-4000-8000-0000000000e2", Status: status,
		ExpiresAt: time.Now().Add(15 * time.Minute).UTC(),
		Ticket: events.OrderTicket{
			ID: tk.ID, Title: tk.Title, Price: tk.Price, Currency: tk.Currency, UserID: tk.UserID, Version: tk.Version,
		},
		Version: version,
	})
}

func payment(t testing.TB, name events.Name, id string, o orderJSON, status string, version int64) events.Envelope {
	t.Helper()
	return envelope(t, name, events.Payment{
		ID: id, OrderID: o.ID, UserID: o.UserID, StripeID: "pi_e2e", Amount: o.Ticket.Price,
		Currency: o.Ticket.Currency, Status: status, Version: version,
	})
}

func newObjectID() string { return primitive.NewObjectID().Hex() }

// waitOrder waits until the order shows status at version.
func waitOrder(t testing.TB, who user, id, status string, version int64) orderJSON {
	t.Helper()
	var o orderJSON
	eventually(t, 15*time.Second, fmt.Sprintf("order %s never became %s v%d", id, status, version), func() bool {
		o = getOrder(t, who, id)
		return o.Status == status && o.Version == version
	})
	return o
}

func TestEvents_RedeliveredOrderCreatedChangesNothingInTickets(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "seller")
	tk := createTicket(t, seller, uniqueTitle("Redelivered"), 700)
	first, probe := newObjectID(), newObjectID()

	created := craftedOrder(t, events.OrderCreated, first, 0, "created", tk)
	publish(t, created)
	reserved := waitTicket(t, tk.ID, "reserved", first)

	// The same message again (a redelivery: same event id) and the same
	// change in a new envelope (a producer's retry), then the cancellation.
	again := craftedOrder(t, events.OrderCreated, first, 0, "created", tk)
	publish(t, created, again, craftedOrder(t, events.OrderCancelled, first, 1, "cancelled", tk))
	available := waitTicket(t, tk.ID, "available", "")
	if available.Version != reserved.Version+1 {
		t.Fatalf("ticket at version %d after reserve (v%d) and cancel; the duplicates changed it", available.Version, reserved.Version)
	}
	// A later order reserves it at the next version: no duplicate of the
	// first order came back to hold it.
	publish(t, craftedOrder(t, events.OrderCreated, probe, 0, "created", tk))
	if got := waitTicket(t, tk.ID, "reserved", probe); got.Version != available.Version+1 {
		t.Fatalf("ticket at version %d, want %d", got.Version, available.Version+1)
	}
}

func TestEvents_OutOfOrderCancelBeforeCreateEndsAvailable(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "seller")
	tk := createTicket(t, seller, uniqueTitle("Out of order"), 800)
	late, probe := newObjectID(), newObjectID()

	publish(t, craftedOrder(t, events.OrderCancelled, late, 1, "cancelled", tk))
	// The cancellation of an order that never held the ticket changes
	// nothing visible; wait until tickets has recorded it as seen (its
	// stored seenOrders) so that the order.created below really comes
	// after it.
	seen := mongoDB(t, "tickets").Collection("tickets")
	eventually(t, 15*time.Second, "tickets never applied the early order.cancelled", func() bool {
		n, err := seen.CountDocuments(context.Background(), bson.M{"_id": tk.ID, "seenOrders." + late: int64(1)})
		return err == nil && n == 1
	})
	publish(t, craftedOrder(t, events.OrderCreated, late, 0, "created", tk))
	// Had the older order.created reserved the ticket, this order would
	// wait behind it; it gets the ticket at the very next version.
	publish(t, craftedOrder(t, events.OrderCreated, probe, 0, "created", tk))
	if got := waitTicket(t, tk.ID, "reserved", probe); got.Version != tk.Version+1 {
		t.Fatalf("ticket at version %d, want %d: the late order.created changed it", got.Version, tk.Version+1)
	}
	publish(t, craftedOrder(t, events.OrderCancelled, probe, 1, "cancelled", tk))
	if got := waitTicket(t, tk.ID, "available", ""); got.Version != tk.Version+2 {
		t.Fatalf("ticket at version %d, want %d", got.Version, tk.Version+2)
	}
}

func TestEvents_PoisonMessagesAreDeadLetteredAndConsumersKeepGoing(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "seller")
	tk := createTicket(t, seller, uniqueTitle("Poison"), 900)

	ticketsDead, ordersDead := queueDepth(t, "tickets.events.dead"), queueDepth(t, "orders.events.dead")
	poison := func(name events.Name, data string) events.Envelope {
		e := envelope(t, name, map[string]any{})
		e.Data = json.RawMessage(data)
		return e
	}
	publish(t,
		poison(events.OrderCreated, `{"id":"not-an-order-id","ticket":{"id":5}}`),
		poison(events.TicketUpdated, `{"id":"`+tk.ID+`","version":"new"}`),
	)
	eventually(t, 20*time.Second, "the poison order.created never reached tickets.events.dead", func() bool {
		return queueDepth(t, "tickets.events.dead") >= ticketsDead+1
	})
	eventually(t, 20*time.Second, "the poison ticket.updated never reached orders.events.dead", func() bool {
		return queueDepth(t, "orders.events.dead") >= ordersDead+1
	})

	// Both consumers go on: tickets reserves for a good event, and orders
	// learns of the ticket's change from tickets' ticket.updated.
	good := newObjectID()
	publish(t, craftedOrder(t, events.OrderCreated, good, 0, "created", tk))
	reserved := waitTicket(t, tk.ID, "reserved", good)
	replica := mongoDB(t, "orders").Collection("tickets")
	eventually(t, 15*time.Second, "the orders replica never saw the reservation", func() bool {
		var doc struct{ Version int64 }
		err := replica.FindOne(context.Background(), bson.M{"_id": tk.ID}).Decode(&doc)
		return err == nil && doc.Version == reserved.Version
	})
}

func TestEvents_OrdersReplicaConvergesOnTheNewestTicketVersion(t *testing.T) {
	t.Parallel()
	id := newObjectID()
	version := func(v int64) events.Envelope {
		name := events.TicketUpdated
		if v == 0 {
			name = events.TicketCreated
		}
		return envelope(t, name, events.Ticket{
			ID: id, Title: fmt.Sprintf("Replica v%d", v), Price: 100 * v, Currency: "eur",
			UserID: "00000000-0000-4000-8000-0000000000e2", Status: "available", Version: v,
		})
	}
	// Newest first, then the older ones and duplicates.
	publish(t, version(3), version(1), version(0), version(3), version(2), version(1))
	replica := mongoDB(t, "orders").Collection("tickets")
	var doc struct {
		Title   string
		Version int64
	}
	eventually(t, 15*time.Second, "the replica never held version 3", func() bool {
		return replica.FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc) == nil && doc.Version == 3
	})
	// A newer version still applies after all the older ones.
	publish(t, version(4))
	eventually(t, 15*time.Second, "the replica never held version 4", func() bool {
		return replica.FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc) == nil && doc.Version == 4 && doc.Title == "Replica v4"
	})
}

func TestEvents_PaymentsCompleteAndRefundTheOrderOnce(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Paid"), 1500)
	order := placeOrder(t, buyer, tk.ID)
	waitTicket(t, tk.ID, "reserved", order.ID)

	paymentID := newObjectID()
	succeeded := payment(t, events.PaymentSucceeded, paymentID, order, "succeeded", 1)
	publish(t, payment(t, events.PaymentFailed, newObjectID(), order, "failed", 1))
	publish(t, succeeded, succeeded)
	paid := waitOrder(t, buyer, order.ID, "complete", 1)
	if paid.PaymentID != paymentID {
		t.Fatalf("paid order %+v, want paymentId %s", paid, paymentID)
	}
	waitTicket(t, tk.ID, "sold", order.ID)
	do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: buyer.Token}).wantError(t, http.StatusConflict, "order_not_cancellable", "")

	// The hold window ending after the payment changes nothing; a refund of
	// another payment neither; the refund of this one does, once.
	publish(t,
		envelope(t, events.ExpirationCompleted, events.Expiration{OrderID: order.ID}),
		payment(t, events.PaymentRefunded, newObjectID(), order, "refunded", 2),
		payment(t, events.PaymentRefunded, paymentID, order, "refunded", 2),
		payment(t, events.PaymentRefunded, paymentID, order, "refunded", 2),
	)
	waitOrder(t, buyer, order.ID, "refunded", 2)
	waitTicket(t, tk.ID, "available", "")
}

func TestEvents_ExpirationCancelsACreatedOrderAndALatePaymentChangesNothing(t *testing.T) {
	t.Parallel()
	seller, buyer, next := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "next")
	tk := createTicket(t, seller, uniqueTitle("Expiring"), 1500)
	order := placeOrder(t, buyer, tk.ID)
	expired := envelope(t, events.ExpirationCompleted, events.Expiration{OrderID: order.ID})
	publish(t, expired, expired, envelope(t, events.ExpirationCompleted, events.Expiration{OrderID: newObjectID()}))
	waitOrder(t, buyer, order.ID, "cancelled", 1)

	// A payment arriving after the expiry leaves the order cancelled (the
	// payments service refunds it); the ticket is free for the next buyer.
	publish(t, payment(t, events.PaymentSucceeded, newObjectID(), order, "succeeded", 1))
	second := placeOrder(t, next, tk.ID)
	waitTicket(t, tk.ID, "reserved", second.ID)
	if o := getOrder(t, buyer, order.ID); o.Status != "cancelled" || o.Version != 1 {
		t.Fatalf("expired order after a late payment: %+v", o)
	}
}

// TestEvents_BrokerRestartMidBurstLosesNoConfirmedEvent restarts RabbitMQ
// while buyers order 100 tickets. Orders do not need the broker, so every
// one is created; their order.created events wait in the outbox while the
// broker is down and must all reach the tickets service afterwards.
//
// Not parallel: the restart would disturb the waits of the other tests,
// which run after it.
func TestEvents_BrokerRestartMidBurstLosesNoConfirmedEvent(t *testing.T) {
	const n = 100
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	o, err := stack.Profile("test", root, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stack.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// The orders keep their holds, so they are spread over buyers who each
	// stay within ORDER_MAX_HOLDS_PER_BUYER (5 on the test stack).
	seller, buyers := signUp(t, "seller"), signUpMany(t, "buyer", n/4)
	ids := make([]string, n)
	buyerOf := map[string]user{}
	for i := range ids {
		ids[i] = createTicket(t, seller, uniqueTitle(fmt.Sprintf("Burst %d", i)), 100).ID
		buyerOf[ids[i]] = buyers[i%len(buyers)]
	}
	waitReplica(t, ids...)

	var (
		orderOf    sync.Map // ticket id → order id
		placed     atomic.Int64
		duringDown atomic.Int64
		restarting atomic.Bool
		began      = make(chan struct{})
		restarted  = make(chan error, 1)
	)
	go func() {
		for placed.Load() < n/5 {
			time.Sleep(5 * time.Millisecond)
		}
		restarting.Store(true)
		close(began)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		restarted <- s.Restart(ctx, "rabbitmq")
		restarting.Store(false)
	}()
	var wg sync.WaitGroup
	next := make(chan string)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				resp := do(t, request{Method: "POST", Path: "/api/orders", Token: buyerOf[id].Token, Body: map[string]string{"ticketId": id}})
				if resp.Status != http.StatusCreated {
					t.Errorf("order of %s during the burst: %d %s", id, resp.Status, resp.Body)
					continue
				}
				var created orderJSON
				resp.decode(t, &created)
				orderOf.Store(id, created.ID)
				if restarting.Load() {
					duringDown.Add(1)
				}
				placed.Add(1)
			}
		}()
	}
	for i, id := range ids {
		next <- id
		if i == n/2 { // keep half of the burst for while the broker is away
			select {
			case <-began:
			case <-time.After(time.Minute):
				t.Fatalf("only %d orders created before the restart was due", placed.Load())
			}
		}
	}
	close(next)
	wg.Wait()
	if err := <-restarted; err != nil {
		t.Fatalf("restart RabbitMQ: %v", err)
	}
	if placed.Load() != n {
		t.Fatalf("%d of %d orders created", placed.Load(), n)
	}

	// Every 201 is one stored order; every ticket ends reserved for it.
	orders := mongoDB(t, "orders").Collection("orders")
	var orderIDs []string
	for _, id := range ids {
		v, _ := orderOf.Load(id)
		orderIDs = append(orderIDs, v.(string))
	}
	stored, err := orders.CountDocuments(context.Background(), bson.M{"_id": bson.M{"$in": orderIDs}})
	if err != nil || stored != n {
		t.Fatalf("%d of the %d created orders stored (%v)", stored, n, err)
	}
	if perTicket, _ := orders.CountDocuments(context.Background(), bson.M{"ticket.id": bson.M{"$in": ids}}); perTicket != n {
		t.Fatalf("%d orders for the %d tickets, want one each", perTicket, n)
	}
	reserved := 0
	eventually(t, 90*time.Second, "not every ticket was reserved for its order after the restart", func() bool {
		reserved = 0
		for _, id := range ids {
			want, _ := orderOf.Load(id)
			if tk := getTicket(t, id); tk.Status == "reserved" && tk.OrderID == want {
				reserved++
			}
		}
		return reserved == n
	})
	eventually(t, 30*time.Second, "events left in the orders outbox", func() bool {
		left, err := orders.CountDocuments(context.Background(), bson.M{"_id": bson.M{"$in": orderIDs}, "outboxPending": true})
		return err == nil && left == 0
	})
	t.Logf("broker restarted mid-burst: %d orders created (%d while it restarted), %d order.created events relayed, %d tickets reserved to their order",
		n, duringDown.Load(), n, reserved)
}
