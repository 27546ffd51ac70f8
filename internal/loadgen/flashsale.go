package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/internal/stripeevent"
)

// FlashSale is the outcome of a flash sale: many buyers at once after few
// tickets, each winner paying at once.
type FlashSale struct {
	Tickets, Buyers, Attempts int
	// Orders, Payments and Webhooks are every answer of each step.
	Orders, Payments, Webhooks Result
	// SoldOut is from the opening to the last order's 201; Completed to the
	// moment every sold ticket's order was complete in the orders database.
	SoldOut, Completed time.Duration
	// Complete counts the orders complete in the orders database;
	// Oversold the tickets with more than one complete order or whose
	// ticket record names another order; Unsold the tickets not sold.
	Complete, Oversold, Unsold int
	// PaymentsSucceeded counts the succeeded payments in the payments
	// database, at most one per order.
	PaymentsSucceeded int
}

// ServerErrors counts the 5xx answers of every step.
func (f FlashSale) ServerErrors() int {
	return f.Orders.ServerErrors() + f.Payments.ServerErrors() + f.Webhooks.ServerErrors()
}

// RunFlashSale opens the sale of tickets to buyers at one instant: attempts
// purchase attempts in all, every ticket wanted by attempts/len(tickets)
// buyers, each buyer making its attempts one after another. A buyer whose
// order is created pays at once: POST /api/payments, then Stripe's signed
// payment_intent.succeeded webhook. Then it reconciles the databases.
func (t *Target) RunFlashSale(ctx context.Context, tickets []Ticket, buyers []User, attempts int) (FlashSale, error) {
	f := FlashSale{Tickets: len(tickets), Buyers: len(buyers), Attempts: attempts}
	targets := make([]int, attempts)
	for j := range targets {
		targets[j] = j % len(tickets)
	}
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })

	orders, payments, webhooks := newRecorder(), newRecorder(), newRecorder()
	var mu sync.Mutex
	var lastOrder time.Time
	open := make(chan struct{})
	var wg sync.WaitGroup
	per := (attempts + len(buyers) - 1) / len(buyers)
	for b, buyer := range buyers {
		mine := targets[min(b*per, attempts):min((b+1)*per, attempts)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-open
			for _, ti := range mine {
				t0 := time.Now()
				var o Order
				status, err := t.API.Do(ctx, "POST", "/api/orders", buyer.Token, map[string]string{"ticketId": tickets[ti].ID}, &o)
				orders.add(status, err, time.Since(t0))
				if status != http.StatusCreated || err != nil {
					continue
				}
				mu.Lock()
				lastOrder = time.Now()
				mu.Unlock()
				t.pay(ctx, buyer, o, payments, webhooks)
			}
		}()
	}
	start := time.Now()
	close(open)
	wg.Wait()
	elapsed := time.Since(start)
	f.Orders = orders.result("flash-sale orders", len(buyers), elapsed)
	f.Payments = payments.result("flash-sale payments", len(buyers), elapsed)
	f.Webhooks = webhooks.result("flash-sale webhooks", len(buyers), elapsed)
	f.SoldOut = lastOrder.Sub(start)
	if err := t.reconcileSale(ctx, &f, tickets, start); err != nil {
		return f, err
	}
	return f, nil
}

// pay starts the payment of o and delivers Stripe's success for it. A 503
// is retried, as the API says, and every answer is counted.
func (t *Target) pay(ctx context.Context, buyer User, o Order, payments, webhooks *recorder) {
	var p Payment
	for try := 0; ; try++ {
		t0 := time.Now()
		status, err := t.API.Do(ctx, "POST", "/api/payments", buyer.Token, map[string]string{"orderId": o.ID}, &p)
		payments.add(status, err, time.Since(t0))
		if status == http.StatusCreated && err == nil {
			break
		}
		if try == 20 || (status != http.StatusServiceUnavailable && status != 0) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	e, err := stripeevent.New(stripeevent.Succeeded, stripeevent.Payment{
		ID: p.ID, OrderID: p.OrderID, StripeID: p.StripeID, Amount: p.Amount, Currency: p.Currency, Status: p.Status,
	}, time.Now())
	if err != nil {
		webhooks.add(0, err, 0)
		return
	}
	t0 := time.Now()
	resp, err := stripeevent.Deliver(ctx, t.API.http, t.API.base, t.WebhookSecret, e)
	webhooks.add(resp.Status, err, time.Since(t0))
}

// reconcileSale waits for the sale's effects to settle, then counts what
// the databases hold: complete orders per ticket, the tickets' own record
// of their buyer, succeeded payments.
func (t *Target) reconcileSale(ctx context.Context, f *FlashSale, tickets []Ticket, start time.Time) error {
	ids := make([]string, len(tickets))
	for i, tk := range tickets {
		ids[i] = tk.ID
	}
	ordersColl := t.Mongo.Database("orders").Collection("orders")
	ticketsColl := t.Mongo.Database("tickets").Collection("tickets")
	if err := settle(ctx, ordersColl, bson.M{"ticket.id": bson.M{"$in": ids}, "status": "complete"}, len(tickets)); err != nil {
		return err
	}
	f.Completed = time.Since(start)
	if err := settle(ctx, ticketsColl, bson.M{"_id": bson.M{"$in": ids}, "status": "sold"}, len(tickets)); err != nil {
		return err
	}

	var orders []struct {
		ID     string `bson:"_id"`
		Status string `bson:"status"`
		Ticket struct {
			ID string `bson:"id"`
		} `bson:"ticket"`
	}
	cur, err := ordersColl.Find(ctx, bson.M{"ticket.id": bson.M{"$in": ids}})
	if err == nil {
		err = cur.All(ctx, &orders)
	}
	if err != nil {
		return fmt.Errorf("read the sale's orders: %w", err)
	}
	completeBy := map[string][]string{}
	for _, o := range orders {
		if o.Status == "complete" {
			completeBy[o.Ticket.ID] = append(completeBy[o.Ticket.ID], o.ID)
			f.Complete++
		}
	}
	var sold []struct {
		ID      string `bson:"_id"`
		Status  string `bson:"status"`
		OrderID string `bson:"orderId"`
	}
	cur, err = ticketsColl.Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err == nil {
		err = cur.All(ctx, &sold)
	}
	if err != nil {
		return fmt.Errorf("read the sale's tickets: %w", err)
	}
	for _, tk := range sold {
		winners := completeBy[tk.ID]
		switch {
		case len(winners) > 1 || (tk.Status == "sold" && len(winners) == 1 && winners[0] != tk.OrderID):
			f.Oversold++
		case tk.Status != "sold" || len(winners) == 0:
			f.Unsold++
		}
	}
	if len(sold) != len(tickets) {
		return fmt.Errorf("the tickets database holds %d of the sale's %d tickets", len(sold), len(tickets))
	}
	orderIDs := make([]string, 0, len(orders))
	for _, o := range orders {
		orderIDs = append(orderIDs, o.ID)
	}
	n, err := count(ctx, t.Mongo.Database("payments").Collection("payments"),
		bson.M{"orderId": bson.M{"$in": orderIDs}, "status": "succeeded"})
	if err != nil {
		return fmt.Errorf("count succeeded payments: %w", err)
	}
	f.PaymentsSucceeded = n
	return nil
}

// settle waits until coll holds want documents matching filter, or two
// minutes passed: the reconciliation then reports what is missing.
func settle(ctx context.Context, coll *mongo.Collection, filter bson.M, want int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := count(ctx, coll, filter)
		if err != nil {
			return fmt.Errorf("count %s: %w", coll.Name(), err)
		}
		if n >= want || time.Now().After(deadline) {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}
