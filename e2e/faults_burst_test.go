package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/internal/stripeevent"
)

// Faults in the middle of a burst (issue 5): buyers order and pay for
// tickets while a service crashes (kill -9), is asked to stop (SIGTERM), or
// while the database restarts. The buyers behave as clients should: they
// retry an answer that says "try again" (502, 503, 504, 429) and nothing
// else. Afterwards every test reconciles the whole system: each ticket has
// exactly one order, held by its buyer; every event that was confirmed was
// applied by every service that consumes it; the outboxes and the queues
// drain; and every 5xx seen is one the fault explains.
//
// Like the other fault tests these do not call t.Parallel: they run alone,
// and every fault is undone by a t.Cleanup even when a test fails.

const (
	// burstSize is the number of purchases in one burst; a quarter of them
	// is done before the fault strikes.
	burstSize = 32
	// burstWorkers is how many buyers act at once.
	burstWorkers = 6
	// retryFor bounds a client's retries of one step.
	retryFor = 2 * time.Minute
)

// purchase is one buyer's attempt to buy one ticket during a burst.
type purchase struct {
	ticket ticketJSON
	buyer  user
	// pay: pay the order (POST /api/payments, then Stripe's webhook);
	// otherwise the order keeps holding the ticket.
	pay bool
	// signIn: sign in again first, a POST through auth.
	signIn bool

	order string
	// ghost: the request that created the order lost its answer (the
	// service died after the write) and the retry was refused as a
	// conflict; the buyer found the order in their list.
	ghost   bool
	payment paymentJSON
	reused  bool   // POST /api/payments answered 200 with the payment an earlier, failed attempt created
	outcome string // the webhook's outcome
}

// call is one HTTP exchange during a burst.
type call struct {
	id      string // its X-Request-Id, which the service logs
	route   string // method and path, ids replaced by :id
	service string // the service behind the route
	status  int    // 0: the connection to nginx broke
	code    string // the error code of an error answer
	start   time.Time
	end     time.Time
}

// burst is a flash sale under a fault: its purchases, and every answer the
// buyers got.
type burst struct {
	t         *testing.T
	purchases []*purchase
	secret    string
	done      atomic.Int64
	seq       atomic.Int64
	down      chan struct{} // closed once the faulty component is down

	mu         sync.Mutex
	calls      []call
	active     map[int64]call // requests under way, by sequence number
	faultAt    time.Time
	restoredAt time.Time
}

// burstBuyers is how many buyers share a burst's purchases, signed up for
// each burst: enough that none holds more unpaid orders than
// ORDER_MAX_HOLDS_PER_BUYER allows (5 on the test stack) even when none of
// the burst's payments has completed, and fresh ones for each burst, since
// a quarter of the purchases keep holding their ticket.
const burstBuyers = 8

// burstSeller signs up the seller shared by a test's bursts.
func burstSeller(t *testing.T, prefix string) user {
	t.Helper()
	return signUp(t, prefix+"-seller")
}

// newBurst lists burstSize tickets for sale, waits until the orders service
// knows them, signs up burstBuyers buyers and assigns each ticket to one. Three purchases in four are
// paid; the others keep holding their ticket (so that the expiration
// service has timeouts to keep).
func newBurst(t *testing.T, seller user) *burst {
	t.Helper()
	buyers := signUpMany(t, "burst-buyer", burstBuyers)
	b := &burst{t: t, secret: webhookSecret(t), active: map[int64]call{}, down: make(chan struct{})}
	publish(t) // opens the broker connection readyMessages uses
	tickets := make([]ticketJSON, burstSize)
	errs := make([]error, burstSize)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range tickets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := send(request{Method: "POST", Path: "/api/tickets", Token: seller.Token, Body: map[string]any{
				"title": uniqueTitle(fmt.Sprintf("Burst %d", i)), "price": 1000 + i, "currency": "eur",
			}})
			if err == nil && resp.Status != http.StatusCreated {
				err = fmt.Errorf("%d %s", resp.Status, resp.Body)
			}
			if err == nil {
				err = json.Unmarshal(resp.Body, &tickets[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("listing the burst's tickets: %v", err)
	}
	ids := make([]string, burstSize)
	for i, tk := range tickets {
		ids[i] = tk.ID
		b.purchases = append(b.purchases, &purchase{
			ticket: tk, buyer: buyers[i%len(buyers)], pay: i%4 != 3, signIn: i%8 == 0,
		})
	}
	waitReplica(t, ids...)
	return b
}

// run lets the buyers loose and calls inject (in its own goroutine) once a
// quarter of the purchases is done. The second half of the purchases waits
// until inject reports the component down (isDown), so that the burst
// cannot end before the fault strikes. run returns when every purchase and
// the fault are over.
func (b *burst) run(inject func() error) {
	b.t.Helper()
	next := make(chan *purchase)
	var wg sync.WaitGroup
	for range burstWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := b.buy(p); err != nil {
					b.t.Errorf("purchase of ticket %s by %s: %v", p.ticket.ID, p.buyer.Email, err)
				}
				b.done.Add(1)
			}
		}()
	}
	var injectErr error
	injected := make(chan struct{})
	go func() {
		defer close(injected)
		for b.done.Load() < burstSize/4 {
			time.Sleep(5 * time.Millisecond)
		}
		injectErr = inject()
	}()
	for i, p := range b.purchases {
		if i == burstSize/2 {
			select {
			case <-b.down:
			case <-injected:
			}
		}
		next <- p
	}
	close(next)
	wg.Wait()
	<-injected
	if injectErr != nil {
		b.t.Fatalf("fault injection: %v", injectErr)
	}
	if b.t.Failed() {
		b.t.FailNow()
	}
}

// isDown lets the second half of the burst go: the component is down.
func (b *burst) isDown() { close(b.down) }

// faultBegins and faultEnds mark the window in which failures are the
// fault's.
func (b *burst) faultBegins() { b.mu.Lock(); b.faultAt = time.Now(); b.mu.Unlock() }
func (b *burst) faultEnds()   { b.mu.Lock(); b.restoredAt = time.Now(); b.mu.Unlock() }

// during reports whether c overlapped the fault: it ended after the fault
// began and started before the component was back.
func (b *burst) during(c call) bool {
	return !b.faultAt.IsZero() && c.end.After(b.faultAt) && (b.restoredAt.IsZero() || c.start.Before(b.restoredAt))
}

var objectIDInPath = regexp.MustCompile(`/[0-9a-f]{24}(/|$)`)

// routeOf names r's route and the service nginx sends it to.
func routeOf(r request) (route, service string) {
	path, _, _ := strings.Cut(r.Path, "?")
	path = objectIDInPath.ReplaceAllString(path, "/:id$1")
	switch {
	case strings.HasPrefix(path, "/api/users"):
		service = "auth"
	case strings.HasPrefix(path, "/api/tickets"):
		service = "tickets"
	case strings.HasPrefix(path, "/api/orders"):
		service = "orders"
	case strings.HasPrefix(path, "/api/payments"):
		service = "payments"
	}
	return r.Method + " " + path, service
}

// exchange sends r once and records the answer.
func (b *burst) exchange(r request) (response, error) {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	seq := b.seq.Add(1)
	c := call{id: fmt.Sprintf("burst-%d-%d", time.Now().UnixNano(), seq), start: time.Now()}
	r.Headers["X-Request-Id"] = c.id
	c.route, c.service = routeOf(r)
	b.mu.Lock()
	b.active[seq] = c
	b.mu.Unlock()
	resp, err := send(r)
	c.end, c.status = time.Now(), resp.Status
	if resp.Status >= 400 {
		var e errorBody
		_ = json.Unmarshal(resp.Body, &e)
		c.code = e.Error.Code
	}
	b.mu.Lock()
	delete(b.active, seq)
	b.calls = append(b.calls, c)
	b.mu.Unlock()
	return resp, err
}

// retryable reports whether a client should try again after status (0: the
// connection broke).
func retryable(status int) bool {
	switch status {
	case 0, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retry sends the request build makes until the answer is final (again
// also when again is not nil and says so), as a client does, for at most
// retryFor. It returns the final answer and how many attempts failed
// before it.
func (b *burst) retry(build func() request, again func(status int) bool) (response, int, error) {
	deadline := time.Now().Add(retryFor)
	for failed := 0; ; failed++ {
		resp, err := b.exchange(build())
		if err == nil && !retryable(resp.Status) && (again == nil || !again(resp.Status)) {
			return resp, failed, nil
		}
		if time.Now().After(deadline) {
			return resp, failed, fmt.Errorf("still failing after %s (status %d, %v): %s", retryFor, resp.Status, err, resp.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buy is one buyer's journey, every step retried as a client would.
func (b *burst) buy(p *purchase) error {
	token := p.buyer.Token
	if p.signIn {
		resp, _, err := b.retry(func() request {
			return request{Method: "POST", Path: "/api/users/sign-in", Body: map[string]string{"email": p.buyer.Email, "password": p.buyer.Password}}
		}, nil)
		if err != nil || resp.Status != http.StatusOK {
			return fmt.Errorf("sign-in: %d %s %v", resp.Status, resp.Body, err)
		}
	}
	resp, _, err := b.retry(func() request { return request{Method: "GET", Path: "/api/users/current-user", Token: token} }, nil)
	if err != nil || resp.Status != http.StatusOK {
		return fmt.Errorf("current user: %d %s %v", resp.Status, resp.Body, err)
	}
	resp, _, err = b.retry(func() request { return request{Method: "GET", Path: "/api/tickets/" + p.ticket.ID} }, nil)
	if err != nil || resp.Status != http.StatusOK {
		return fmt.Errorf("ticket: %d %s %v", resp.Status, resp.Body, err)
	}
	if err := b.order(p); err != nil {
		return err
	}
	if !p.pay {
		return nil
	}
	if err := b.startPayment(p); err != nil {
		return err
	}
	return b.stripeSucceeds(p)
}

// order places the order; when an earlier attempt failed and the retry is
// refused because the ticket is taken, the failed attempt did create the
// order (the service died before answering), and the buyer finds it.
func (b *burst) order(p *purchase) error {
	resp, failed, err := b.retry(func() request {
		return request{Method: "POST", Path: "/api/orders", Token: p.buyer.Token, Body: map[string]string{"ticketId": p.ticket.ID}}
	}, nil)
	switch {
	case err != nil:
		return fmt.Errorf("order: %w", err)
	case resp.Status == http.StatusCreated:
		var o orderJSON
		if err := json.Unmarshal(resp.Body, &o); err != nil || o.ID == "" {
			return fmt.Errorf("order: a 201 without an order: %s", resp.Body)
		}
		p.order = o.ID
	case resp.Status == http.StatusConflict && failed > 0:
		p.ghost = true
		return b.findOrder(p)
	default:
		return fmt.Errorf("order: %d %s", resp.Status, resp.Body)
	}
	return nil
}

// findOrder finds the buyer's order of the ticket in their list.
func (b *burst) findOrder(p *purchase) error {
	deadline := time.Now().Add(retryFor)
	for time.Now().Before(deadline) {
		resp, _, err := b.retry(func() request {
			return request{Method: "GET", Path: "/api/orders?limit=100", Token: p.buyer.Token}
		}, nil)
		if err != nil || resp.Status != http.StatusOK {
			return fmt.Errorf("list orders: %d %s %v", resp.Status, resp.Body, err)
		}
		var page struct{ Items []orderJSON }
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return err
		}
		var found []string
		for _, o := range page.Items {
			if o.Ticket.ID == p.ticket.ID && o.Status == "created" {
				found = append(found, o.ID)
			}
		}
		switch len(found) {
		case 1:
			p.order = found[0]
			return nil
		case 0:
			time.Sleep(100 * time.Millisecond)
		default:
			return fmt.Errorf("the buyer holds %d orders of one ticket: %v", len(found), found)
		}
	}
	return errors.New("a retried order was refused as a conflict, but the buyer holds no order of the ticket")
}

// startPayment creates the order's payment. An order whose 201 was lost
// may have lost its Keto tuples too: it is not payable (404) until the
// restarted orders service has repaired them.
func (b *burst) startPayment(p *purchase) error {
	resp, failed, err := b.retry(func() request {
		return request{Method: "POST", Path: "/api/payments", Token: p.buyer.Token, Body: map[string]string{"orderId": p.order}}
	}, func(status int) bool { return p.ghost && status == http.StatusNotFound })
	if err != nil {
		return fmt.Errorf("payment: %w", err)
	}
	p.reused = resp.Status == http.StatusOK && failed > 0
	if resp.Status != http.StatusCreated && !p.reused {
		return fmt.Errorf("payment: %d %s", resp.Status, resp.Body)
	}
	if err := json.Unmarshal(resp.Body, &p.payment); err != nil || p.payment.Status != "pending" || p.payment.OrderID != p.order {
		return fmt.Errorf("payment: %s (%v)", resp.Body, err)
	}
	return nil
}

// stripeSucceeds delivers Stripe's payment_intent.succeeded, signed anew
// on every attempt as Stripe does, until it is acknowledged.
func (b *burst) stripeSucceeds(p *purchase) error {
	e, err := stripeevent.New(stripeevent.Succeeded, stripeevent.Payment{
		ID: p.payment.ID, OrderID: p.order, StripeID: p.payment.StripeID,
		Amount: p.payment.Amount, Currency: p.payment.Currency, Status: p.payment.Status,
	}, time.Now())
	if err != nil {
		return err
	}
	resp, failed, err := b.retry(func() request {
		return request{Method: "POST", Path: stripeevent.WebhookPath, Body: e.Payload,
			Headers: map[string]string{"Stripe-Signature": stripeevent.Sign(e.Payload, b.secret, time.Now())}}
	}, nil)
	if err != nil || resp.Status != http.StatusOK {
		return fmt.Errorf("webhook: %d %s %v", resp.Status, resp.Body, err)
	}
	var res webhookResult
	if err := json.Unmarshal(resp.Body, &res); err != nil {
		return err
	}
	p.outcome = res.Outcome
	if res.Outcome != "applied" && !(res.Outcome == "duplicate" && failed > 0) {
		return fmt.Errorf("webhook outcome %q after %d failed attempts", res.Outcome, failed)
	}
	return nil
}

// ids returns the ticket and order ids of the burst, and the order ids of
// the paid and of the holding purchases.
func (b *burst) ids() (tickets, orders, paid, held []string) {
	for _, p := range b.purchases {
		tickets, orders = append(tickets, p.ticket.ID), append(orders, p.order)
		if p.pay {
			paid = append(paid, p.order)
		} else {
			held = append(held, p.order)
		}
	}
	return tickets, orders, paid, held
}

// eventQueues are the services' queues, which must drain after a burst.
var eventQueues = []string{"tickets.events", "orders.events", "payments.events", "expiration.events"}

// deadLetters counts the dead-lettered messages of every service.
func deadLetters(t *testing.T) map[string]int {
	t.Helper()
	publish(t)
	n := map[string]int{}
	for _, q := range eventQueues {
		n[q+".dead"] = queueDepth(t, q+".dead")
	}
	return n
}

// outboxPending counts the documents among ids in coll whose events were
// not yet published.
func outboxPending(ctx context.Context, coll *mongo.Collection, ids []string) (int64, error) {
	return coll.CountDocuments(ctx, bson.M{"_id": bson.M{"$in": ids}, "outboxPending": true})
}

// reconcile checks the end state of the whole system after the burst, and
// returns a line of counts for the log.
func (b *burst) reconcile(deadBefore map[string]int) string {
	t := b.t
	t.Helper()
	ctx := context.Background()
	tickets, orders, paid, held := b.ids()

	// Every ticket has exactly one order, the one its buyer was given.
	ordersColl := mongoDB(t, "orders").Collection("orders")
	eventually(t, 30*time.Second, "the orders database does not hold exactly the burst's orders", func() bool {
		n, err := ordersColl.CountDocuments(ctx, bson.M{"ticket.id": bson.M{"$in": tickets}})
		return err == nil && n == burstSize
	})
	for _, p := range b.purchases {
		var o struct {
			ID     string `bson:"_id"`
			UserID string `bson:"userId"`
		}
		if err := ordersColl.FindOne(ctx, bson.M{"ticket.id": p.ticket.ID}).Decode(&o); err != nil || o.ID != p.order || o.UserID != p.buyer.ID {
			t.Fatalf("ticket %s: stored order %+v (%v), the buyer %s was given %s", p.ticket.ID, o, err, p.buyer.ID, p.order)
		}
	}

	// Every event was applied: the order reached its status (payment.succeeded
	// in orders), the ticket its lock (order.created and order.completed in
	// tickets), the payments replica the order's status, the orders replica
	// the ticket's last version. The databases say it cheaply while it
	// converges; the APIs say it once it has, to the buyer (whose Keto
	// tuples must exist, repaired if the crash came between the order and
	// its tuples).
	var (
		lag     []string
		lagErr  error
		waiting string
	)
	if err := waitFor(90*time.Second, "the system never caught up with the burst", func() bool {
		lag, lagErr = b.lagging(ctx)
		return lagErr == nil && len(lag) == 0
	}); err != nil {
		t.Fatalf("%v (%v): %s", err, lagErr, strings.Join(lag, "; "))
	}
	seen := map[*purchase]bool{}
	if err := waitFor(90*time.Second, "a buyer does not see their order as it is stored", func() bool {
		for _, p := range b.purchases {
			if seen[p] {
				continue
			}
			orderStatus, ticketStatus := p.want()
			var o orderJSON
			if resp := do(t, request{Method: "GET", Path: "/api/orders/" + p.order, Token: p.buyer.Token}); resp.Status != http.StatusOK ||
				json.Unmarshal(resp.Body, &o) != nil || o.Status != orderStatus || o.PaymentID != p.payment.ID {
				waiting = fmt.Sprintf("order %s: %d %s", p.order, resp.Status, resp.Body)
				return false
			}
			if tk := getTicket(t, p.ticket.ID); tk.Status != ticketStatus || tk.OrderID != p.order {
				waiting = fmt.Sprintf("ticket %+v", tk)
				return false
			}
			seen[p] = true
		}
		return true
	}); err != nil {
		t.Fatalf("%v: %s", err, waiting)
	}

	// One payment per paid order, succeeded by one Stripe event; none for
	// the others.
	payments := mongoDB(t, "payments").Collection("payments")
	for _, p := range b.purchases {
		var stored []struct {
			ID           string   `bson:"_id"`
			Status       string   `bson:"status"`
			StripeEvents []string `bson:"stripeEvents"`
		}
		cur, err := payments.Find(ctx, bson.M{"orderId": p.order})
		if err == nil {
			err = cur.All(ctx, &stored)
		}
		switch {
		case err != nil:
			t.Fatal(err)
		case !p.pay && len(stored) != 0:
			t.Fatalf("order %s was never paid but has payments %+v", p.order, stored)
		case p.pay && (len(stored) != 1 || stored[0].ID != p.payment.ID || stored[0].Status != "succeeded" || len(stored[0].StripeEvents) != 1):
			t.Fatalf("order %s: payments %+v, want one, %s, succeeded by one event", p.order, stored, p.payment.ID)
		}
	}

	// The orders still holding their ticket each have one pending timeout.
	in := timeouts(t)
	eventually(t, 30*time.Second, "a holding order has no scheduled timeout", func() bool {
		for _, id := range held {
			if info, err := in.GetTaskInfo("expiration", id); err != nil || info.State != asynq.TaskStateScheduled {
				return false
			}
		}
		return true
	})

	// The outboxes and the queues drain; nothing was dead-lettered.
	for _, o := range []struct {
		db, coll string
		ids      []string
	}{{"orders", "orders", orders}, {"tickets", "tickets", tickets}, {"payments", "payments", paymentIDs(b.purchases)}} {
		eventually(t, 30*time.Second, fmt.Sprintf("events left in the %s outbox", o.db), func() bool {
			n, err := outboxPending(ctx, mongoDB(t, o.db).Collection(o.coll), o.ids)
			return err == nil && n == 0
		})
	}
	eventually(t, 30*time.Second, "the event queues never drained", func() bool {
		for _, q := range eventQueues {
			if queueDepth(t, q) != 0 {
				return false
			}
		}
		return true
	})
	if after := deadLetters(t); !maps.Equal(after, deadBefore) {
		t.Fatalf("messages were dead-lettered during the burst: %v, before %v", after, deadBefore)
	}

	ghosts, reused, duplicates := 0, 0, 0
	for _, p := range b.purchases {
		ghosts += btoi(p.ghost)
		reused += btoi(p.reused)
		duplicates += btoi(p.outcome == "duplicate")
	}
	return fmt.Sprintf("%d purchases → %d orders stored once each (%d of them found by their buyer after a lost 201); "+
		"%d complete and sold, each with one payment succeeded by one Stripe event (%d payments created by an attempt whose answer was lost, "+
		"%d webhooks acknowledged as duplicates on a retry); %d holding their ticket with one pending timeout; outboxes 0, queues 0, dead letters unchanged",
		burstSize, burstSize, ghosts, len(paid), reused, duplicates, len(held))
}

// want is the purchase's final order and ticket status.
func (p *purchase) want() (order, ticket string) {
	if p.pay {
		return "complete", "sold"
	}
	return "created", "reserved"
}

// docState is what reconcile reads of an order, a ticket or a replica.
type docState struct {
	ID        string `bson:"_id"`
	Status    string `bson:"status"`
	OrderID   string `bson:"orderId"`
	PaymentID string `bson:"paymentId"`
	Version   int64  `bson:"version"`
}

// readStates reads the documents of coll with the given ids, by id.
func readStates(ctx context.Context, coll *mongo.Collection, ids []string) (map[string]docState, error) {
	cur, err := coll.Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, err
	}
	var docs []docState
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	m := make(map[string]docState, len(docs))
	for _, d := range docs {
		m[d.ID] = d
	}
	return m, nil
}

// lagging lists the effects of the burst that have not reached the
// databases yet.
func (b *burst) lagging(ctx context.Context) ([]string, error) {
	tickets, orders, _, _ := b.ids()
	var states [4]map[string]docState
	for i, r := range []struct {
		db, coll string
		ids      []string
	}{{"orders", "orders", orders}, {"tickets", "tickets", tickets}, {"payments", "orders", orders}, {"orders", "tickets", tickets}} {
		var err error
		if states[i], err = readStates(ctx, mongoDB(b.t, r.db).Collection(r.coll), r.ids); err != nil {
			return nil, err
		}
	}
	order, ticket, paymentsReplica, ordersReplica := states[0], states[1], states[2], states[3]
	var lag []string
	for _, p := range b.purchases {
		orderStatus, ticketStatus := p.want()
		if o := order[p.order]; o.Status != orderStatus || o.PaymentID != p.payment.ID {
			lag = append(lag, fmt.Sprintf("order %s is %q paid by %q", p.order, o.Status, o.PaymentID))
		}
		tk := ticket[p.ticket.ID]
		if tk.Status != ticketStatus || tk.OrderID != p.order {
			lag = append(lag, fmt.Sprintf("ticket %s is %q for %q", tk.ID, tk.Status, tk.OrderID))
		}
		if r := paymentsReplica[p.order]; r.Status != orderStatus {
			lag = append(lag, fmt.Sprintf("payments' copy of order %s is %q", p.order, r.Status))
		}
		if r := ordersReplica[p.ticket.ID]; r.Version != tk.Version {
			lag = append(lag, fmt.Sprintf("orders' copy of ticket %s is at v%d of v%d", p.ticket.ID, r.Version, tk.Version))
		}
	}
	return lag, nil
}

func paymentIDs(ps []*purchase) []string {
	var ids []string
	for _, p := range ps {
		if p.pay {
			ids = append(ids, p.payment.ID)
		}
	}
	return ids
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// askedTheDownService reports whether c is payments answering 503
// dependency_unavailable while orders is down: payments reads an order it
// has not replicated yet from orders, and cannot while orders is away.
func (b *burst) askedTheDownService(c call, down string) bool {
	return down == "orders" && c.service == "payments" && c.status == http.StatusServiceUnavailable &&
		c.code == "dependency_unavailable" && b.during(c)
}

// checkFailures fails the test for every answer no client should have
// seen: a broken connection, any 500, and a 5xx that explained does not
// account for. It returns the tally of answers for the log.
func (b *burst) checkFailures(explained func(call) bool) string {
	b.t.Helper()
	tally := map[string]int{}
	var unexplained []string
	for _, c := range b.calls {
		key := fmt.Sprintf("%s %d", c.route, c.status)
		if c.code != "" && c.status >= 500 {
			key += " " + c.code
		}
		if c.status >= 500 && b.during(c) {
			key += " (during the fault)"
		}
		tally[key]++
		switch {
		case c.status == 0, c.status == http.StatusInternalServerError:
		case c.status < 500:
			continue
		case explained(c):
			continue
		}
		unexplained = append(unexplained, fmt.Sprintf("%s %d %s at %s", c.route, c.status, c.code, c.start.Format("15:04:05.000")))
	}
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%4d × %s", tally[k], k))
	}
	summary := strings.Join(lines, "\n")
	if len(unexplained) > 0 {
		b.t.Errorf("%d answers the fault does not explain:\n%s\nall answers:\n%s", len(unexplained), strings.Join(unexplained, "\n"), summary)
	}
	return summary
}

// gatewayError reports whether status is a 5xx a client retries.
func gatewayError(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// restoreOnCleanup starts the component again at the end of the test if it
// is not running, so that a failed test leaves the stack whole.
func restoreOnCleanup(t *testing.T, s *stack.Stack, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.Start(ctx, name); err != nil {
			t.Errorf("restoring %s: %v", name, err)
		}
	})
}

// startAgain starts a component after a fault and marks the fault's end.
func (b *burst) startAgain(s *stack.Stack, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Start(ctx, name); err != nil {
		return err
	}
	b.faultEnds()
	return nil
}

// waitFor polls cond until it holds, for at most within; the injector's
// eventually, which may not stop the test from its goroutine.
func waitFor(within time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// failuresSince counts the 5xx answers of service (any when "") that ended
// after the fault began.
func (b *burst) failuresSince(service string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.calls {
		if c.status >= 500 && c.end.After(b.faultAt) && (service == "" || c.service == service) {
			n++
		}
	}
	return n
}

// TestFaults_KillMidBurstThenRestartReconciles crashes each service in turn
// (SIGKILL: no drain, no last outbox pass, unacked messages returned) while
// buyers order and pay, and restarts it once the burst has felt it.
// Requests to the dead service fail with 502 and succeed when retried; an
// order written just before the crash, whose 201 was lost, is found by its
// buyer (the retry is a 409), gets its Keto tuples from the repairer and is
// paid; everything reconciles.
func TestFaults_KillMidBurstThenRestartReconciles(t *testing.T) {
	seller := burstSeller(t, "kill")
	tests := []struct {
		service string
		// queue, when not empty, shows the outage as well as failed
		// requests do: the service's events wait in it.
		queue string
	}{
		{service: "auth"},
		{service: "tickets", queue: "tickets.events"},
		{service: "orders", queue: "orders.events"},
		{service: "payments", queue: "payments.events"},
		{service: "expiration", queue: "expiration.events"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := testStack(t)
			b := newBurst(t, seller)
			dead := deadLetters(t)
			restoreOnCleanup(t, s, tt.service)
			b.run(func() error {
				b.faultBegins()
				if err := s.Kill(tt.service); err != nil {
					return err
				}
				b.isDown()
				// Leave it dead until the burst has felt it.
				err := waitFor(30*time.Second, tt.service+"'s death was never noticed", func() bool {
					if b.failuresSince(tt.service) > 0 {
						return true
					}
					if tt.queue == "" {
						return false
					}
					n, err := readyMessages(tt.queue)
					return err == nil && n > 0
				})
				if err != nil {
					return err
				}
				return b.startAgain(s, tt.service)
			})
			counts := b.reconcile(dead)
			answers := b.checkFailures(func(c call) bool {
				return (c.service == tt.service && gatewayError(c.status) && b.during(c)) || b.askedTheDownService(c, tt.service)
			})
			t.Logf("kill -9 %s mid-burst: %s\n%s", tt.service, counts, answers)
		})
	}
}

// TestFaults_FerretDBRestartMidBurstRecoversWithout500s stops the database
// under the burst and starts it again: every service answers 503
// dependency_unavailable while it is away, reconnects by itself, and no
// request started after it is back fails.
func TestFaults_FerretDBRestartMidBurstRecoversWithout500s(t *testing.T) {
	seller := burstSeller(t, "ferretdb")
	s := testStack(t)
	b := newBurst(t, seller)
	dead := deadLetters(t)
	restoreOnCleanup(t, s, "ferretdb")
	b.run(func() error {
		b.faultBegins()
		if err := s.Stop("ferretdb"); err != nil {
			return err
		}
		b.isDown()
		// Down until the buyers have felt it.
		if err := waitFor(time.Minute, "no request failed while the database was down", func() bool {
			return b.failuresSince("") >= 3
		}); err != nil {
			return err
		}
		if err := b.startAgain(s, "ferretdb"); err != nil {
			return err
		}
		reopenMongo(t)
		return nil
	})
	counts := b.reconcile(dead)
	// While it is down, a service answers 503 dependency_unavailable (never
	// a 500, never a hang); once it is back, nothing fails.
	answers := b.checkFailures(func(c call) bool {
		return c.status == http.StatusServiceUnavailable && c.code == "dependency_unavailable" && b.during(c)
	})
	during, after := 0, 0
	for _, c := range b.calls {
		switch {
		case c.status < 500:
		case b.during(c):
			during++
		default:
			after++
		}
	}
	t.Logf("FerretDB restarted mid-burst: %d × 5xx while it was down, %d after it was back; %s\n%s", during, after, counts, answers)
}

// TestFaults_SIGTERMMidBurstFinishesInFlightWork stops orders (HTTP writes,
// payment events) and tickets (order events) the way an orchestrator does,
// while requests are under way: the requests it took in are answered, it
// exits by itself with its outbox published, its queue keeps what it did
// not take, and after the restart everything reconciles.
func TestFaults_SIGTERMMidBurstFinishesInFlightWork(t *testing.T) {
	seller := burstSeller(t, "sigterm")
	tests := []struct {
		service string
		// outbox selects the service's documents the burst writes.
		db, coll string
		outbox   func(tickets []string) bson.M
	}{
		{service: "orders", db: "orders", coll: "orders", outbox: func(ids []string) bson.M { return bson.M{"ticket.id": bson.M{"$in": ids}} }},
		{service: "tickets", db: "tickets", coll: "tickets", outbox: func(ids []string) bson.M { return bson.M{"_id": bson.M{"$in": ids}} }},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := testStack(t)
			b := newBurst(t, seller)
			dead := deadLetters(t)
			tickets, _, _, _ := b.ids()
			coll := mongoDB(t, tt.db).Collection(tt.coll)
			restoreOnCleanup(t, s, tt.service)
			var (
				waiting int
				exit    time.Duration
			)
			b.run(func() error {
				// Strike while the service is serving.
				if err := b.waitInFlight(tt.service); err != nil {
					return err
				}
				b.faultBegins()
				if err := s.Terminate(tt.service); err != nil {
					return err
				}
				exit = time.Since(b.faultAt)
				b.isDown()
				// Nothing half-written: the last outbox pass published every
				// event of every change the service made before it exited.
				filter := tt.outbox(tickets)
				filter["outboxPending"] = true
				left, err := coll.CountDocuments(context.Background(), filter)
				if err != nil {
					return err
				}
				if left != 0 {
					return fmt.Errorf("%d documents of %s.%s still had unpublished events when %s exited", left, tt.db, tt.coll, tt.service)
				}
				if waiting, err = readyMessages(tt.service + ".events"); err != nil {
					return err
				}
				return b.startAgain(s, tt.service)
			})
			counts := b.reconcile(dead)
			answers := b.checkFailures(func(c call) bool {
				return (c.service == tt.service && c.status == http.StatusBadGateway && b.during(c)) || b.askedTheDownService(c, tt.service)
			})
			// Every request the service took in was answered: no order was
			// written for a request whose answer was lost.
			for _, p := range b.purchases {
				if p.ghost {
					t.Errorf("order %s was written, but the request that wrote it got no answer", p.order)
				}
			}
			// Every request the service took in got its answer: none of
			// the requests answered 502 reached a handler (each handler's
			// request id is in the service's log once it has answered).
			served := serviceLog(t, tt.service)
			for _, c := range b.calls {
				if c.service == tt.service && c.status == http.StatusBadGateway && strings.Contains(served, c.id) {
					t.Errorf("%s %s was served by %s, but the client got a 502", c.route, c.id, tt.service)
				}
			}
			finished, refused := b.inFlightAtSignal(tt.service)
			if len(finished)+refused == 0 {
				t.Error("no request was in flight at the signal")
			}
			t.Logf("SIGTERM %s mid-burst: exited %s after the signal; %d requests in flight at the signal finished (%s), %d not yet taken in (502, never served) and retried; %d events waited in %s.events while it was down; %s\n%s",
				tt.service, exit.Round(time.Millisecond), len(finished), strings.Join(finished, ", "), refused, waiting, tt.service, counts, answers)
		})
	}
}

// waitInFlight waits until a request to service has been under way for a
// few milliseconds: long enough for nginx to have passed it on, so that the
// signal most likely finds it in a handler.
func (b *burst) waitInFlight(service string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		for _, c := range b.active {
			if c.service == service && time.Since(c.start) > 3*time.Millisecond {
				b.mu.Unlock()
				return nil
			}
		}
		b.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("no request to %s was under way for 30 s", service)
}

// serviceLog is the log of one of the test stack's services.
func serviceLog(t *testing.T, service string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stackEnv["TEST_STATE_DIR"], "logs", service+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inFlightAtSignal sorts the service's requests that were under way when
// the fault began: the statuses of those answered, and how many got a 502.
func (b *burst) inFlightAtSignal(service string) (finished []string, refused int) {
	for _, c := range b.calls {
		if c.service != service || !c.start.Before(b.faultAt) || !c.end.After(b.faultAt) {
			continue
		}
		if c.status == http.StatusBadGateway {
			refused++
			continue
		}
		finished = append(finished, fmt.Sprintf("%s %d", c.route, c.status))
	}
	return finished, refused
}
