package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/keto"
)

// Target is the stack under load: its public entry and the servers the
// load generator inspects directly (to measure ceilings and backlogs).
type Target struct {
	API           *Client
	Mongo         *mongo.Client
	RabbitMQURL   string
	Keto          *keto.Client
	KratosURL     string
	WebhookSecret string
	// StateDir is the stack's state folder, where its pids are.
	StateDir string
	direct   *http.Client
}

// Open connects to the stack described by env, the TEST_* variables of
// `stack env`.
func Open(ctx context.Context, env map[string]string) (*Target, error) {
	for _, k := range []string{"TEST_STACK_URL", "TEST_MONGO_URI", "TEST_RABBITMQ_URL", "TEST_KETO_READ_URL",
		"TEST_KETO_WRITE_URL", "TEST_KRATOS_PUBLIC_URL", "TEST_STRIPE_WEBHOOK_SECRET"} {
		if env[k] == "" {
			return nil, fmt.Errorf("loadgen: %s is not set", k)
		}
	}
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI(env["TEST_MONGO_URI"]).SetMaxPoolSize(256))
	if err != nil {
		return nil, err
	}
	direct := newHTTPClient()
	k, err := keto.New(keto.Config{ReadURL: env["TEST_KETO_READ_URL"], WriteURL: env["TEST_KETO_WRITE_URL"]}, direct)
	if err != nil {
		return nil, err
	}
	return &Target{
		API: NewClient(env["TEST_STACK_URL"]), Mongo: mc, RabbitMQURL: env["TEST_RABBITMQ_URL"], Keto: k,
		KratosURL: env["TEST_KRATOS_PUBLIC_URL"], WebhookSecret: env["TEST_STRIPE_WEBHOOK_SECRET"],
		StateDir: env["TEST_STATE_DIR"], direct: direct,
	}, nil
}

// Close disconnects from the servers.
func (t *Target) Close() { _ = t.Mongo.Disconnect(context.Background()) }

// Backlog is how much work the pipeline still owes at one moment.
type Backlog struct {
	// Queues is the ready messages of each service's event queue.
	Queues map[string]int
	// Outbox is the aggregates whose events are not yet published, per
	// service database.
	Outbox map[string]int
}

// Total sums the queues and the outboxes.
func (b Backlog) Total() int {
	n := 0
	for _, v := range b.Queues {
		n += v
	}
	for _, v := range b.Outbox {
		n += v
	}
	return n
}

var (
	serviceQueues = []string{"tickets.events", "orders.events", "payments.events", "expiration.events"}
	outboxes      = map[string]string{"orders": "orders", "tickets": "tickets", "payments": "payments"}
)

// Backlog reads the queue depths from RabbitMQ and counts the aggregates
// with pending events in each service's database.
func (t *Target) Backlog(ctx context.Context) (Backlog, error) {
	b := Backlog{Queues: map[string]int{}, Outbox: map[string]int{}}
	conn, err := amqp.Dial(t.RabbitMQURL)
	if err != nil {
		return b, err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return b, err
	}
	for _, q := range serviceQueues {
		info, err := ch.QueueDeclarePassive(q, true, false, false, false, amqp.Table{"x-queue-type": "quorum"})
		if err != nil {
			return b, fmt.Errorf("queue %s: %w", q, err)
		}
		b.Queues[q] = info.Messages
	}
	for db, coll := range outboxes {
		n, err := count(ctx, t.Mongo.Database(db).Collection(coll), bson.M{"outboxPending": true})
		if err != nil {
			return b, fmt.Errorf("outbox of %s: %w", db, err)
		}
		b.Outbox[db] = n
	}
	return b, nil
}

// count counts the documents matching filter by reading their ids with a
// find, which FerretDB narrows down in PostgreSQL (equality conditions, the
// outbox flag's index): CountDocuments is an aggregation there, which
// decodes every document of the collection, and took a quarter of
// FerretDB's CPU while the sustained run sampled the backlog.
func count(ctx context.Context, coll *mongo.Collection, filter bson.M) (int, error) {
	cur, err := coll.Find(ctx, filter, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		n++
	}
	return n, cur.Err()
}

// Locks records when each order's ticket was locked, from the tickets
// service's ticket.updated events: the moment the ticket's write that
// reserved it for the order committed.
type Locks struct {
	mu   sync.Mutex
	at   map[string]time.Time
	conn *amqp.Connection
}

// WatchLocks starts listening to ticket.updated on a private queue.
func (t *Target) WatchLocks(ctx context.Context) (*Locks, error) {
	conn, err := amqp.Dial(t.RabbitMQURL)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, err
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = ch.QueueBind(q.Name, string(events.TicketUpdated), events.Exchange, false, nil)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(q.Name, "loadgen-locks", true, true, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	l := &Locks{at: map[string]time.Time{}, conn: conn}
	go func() {
		for d := range deliveries {
			env, err := events.Decode(d.Body)
			if err != nil {
				continue
			}
			var tk events.Ticket
			if json.Unmarshal(env.Data, &tk) != nil || tk.OrderID == "" || tk.Status == "available" {
				continue
			}
			l.mu.Lock()
			if _, seen := l.at[tk.OrderID]; !seen {
				l.at[tk.OrderID] = env.OccurredAt
			}
			l.mu.Unlock()
		}
	}()
	return l, nil
}

// Close stops listening.
func (l *Locks) Close() { l.conn.Close() }

// Lag returns, for each order, how long after its commit its ticket was
// locked, waiting up to wait for the locks not seen yet; missing counts the
// orders whose lock never came.
func (l *Locks) Lag(orders []Order, wait time.Duration) (lags []time.Duration, missing int) {
	deadline := time.Now().Add(wait)
	for {
		lags, missing = lags[:0], 0
		l.mu.Lock()
		for _, o := range orders {
			at, ok := l.at[o.ID]
			if !ok {
				missing++
				continue
			}
			lags = append(lags, max(at.Sub(o.CreatedAt), 0))
		}
		l.mu.Unlock()
		if missing == 0 || time.Now().After(deadline) {
			return lags, missing
		}
		time.Sleep(100 * time.Millisecond)
	}
}
