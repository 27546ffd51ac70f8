package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ticketing/ticketing/pkg/testenv"
)

// These tests run against the real RabbitMQ of the test stack
// (TEST_RABBITMQ_URL). Each uses its own service name, so its own queues.

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// testService returns a service name of the test's own, and an event name
// only its queue is bound to: the tests share the broker's exchange.
func testService(t *testing.T) (string, Name) {
	n := time.Now().UnixNano()
	return fmt.Sprintf("test-%s-%d", t.Name(), n), Name(fmt.Sprintf("test.ticket%d.v1", n))
}

// deleteQueues removes a test service's queues afterwards.
func deleteQueues(t *testing.T, conn *Connection, service string) {
	t.Cleanup(func() {
		ch, err := conn.Channel(context.Background())
		if err != nil {
			return
		}
		defer ch.Close()
		_, _ = ch.QueueDelete(QueueName(service), false, false, false)
		_, _ = ch.QueueDelete(DeadLetterQueueName(service), false, false, false)
	})
}

func ticketEvent(t *testing.T, name Name, version int64) Envelope {
	t.Helper()
	e, err := New(name, Ticket{
		ID: "656565656565656565656565", Title: "Concert", Price: 2500, Currency: "eur",
		UserID: "u1", Status: "available", Version: version,
	}, Meta{CorrelationID: "corr-1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// consume runs c until the test ends.
func consume(t *testing.T, c *Consumer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishConsume_DeliversEveryEventIntact(t *testing.T) {
	t.Parallel()
	conn := NewConnection(testenv.Require(t, "TEST_RABBITMQ_URL"), quietLogger())
	defer conn.Close()
	service, name := testService(t)
	deleteQueues(t, conn, service)

	var mu sync.Mutex
	got := map[string]Envelope{}
	c := NewConsumer(conn, service, quietLogger())
	c.Handle(name, func(_ context.Context, e Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		got[e.ID] = e
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(conn)
	defer pub.Close()
	sent := make([]Envelope, 50)
	for i := range sent {
		sent[i] = ticketEvent(t, name, int64(i))
	}
	if err := pub.Publish(ctx, sent...); err != nil {
		t.Fatal(err)
	}
	consume(t, c)
	waitFor(t, 10*time.Second, "not every event arrived", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(sent)
	})
	for _, s := range sent {
		g := got[s.ID]
		if g.Type != name || g.CorrelationID != s.CorrelationID || !g.OccurredAt.Equal(s.OccurredAt) {
			t.Fatalf("event %s arrived as %+v, sent %+v", s.ID, g, s)
		}
		data, err := DecodeData[Ticket](g)
		if err != nil || data.Title != "Concert" {
			t.Fatalf("data of %s: %+v, %v", s.ID, data, err)
		}
	}
}

func TestPublish_UnroutableEventIsAnError(t *testing.T) {
	t.Parallel()
	conn := NewConnection(testenv.Require(t, "TEST_RABBITMQ_URL"), quietLogger())
	defer conn.Close()
	pub := NewPublisher(conn)
	defer pub.Close()
	e, err := New(Name("test.nobody-listens.v1"), map[string]int{"n": 1}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Publish(ctx, e); !errors.Is(err, ErrUnroutable) {
		t.Fatalf("Publish of an unbound event: %v, want ErrUnroutable", err)
	}
}

func TestConsumer_RetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	conn := NewConnection(testenv.Require(t, "TEST_RABBITMQ_URL"), quietLogger())
	defer conn.Close()
	service, name := testService(t)
	deleteQueues(t, conn, service)

	var calls, done atomic.Int32
	c := NewConsumer(conn, service, quietLogger())
	c.RetryBase = 10 * time.Millisecond
	c.Handle(name, func(context.Context, Envelope) error {
		if calls.Add(1) < 3 {
			return errors.New("transient failure")
		}
		done.Add(1)
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	consume(t, c)
	if err := NewPublisher(conn).Publish(ctx, ticketEvent(t, name, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the event was never handled successfully", func() bool { return done.Load() == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times, want 3 (two failures, one success)", n)
	}
	if n := queueDepth(t, conn, DeadLetterQueueName(service)); n != 0 {
		t.Fatalf("dead-letter queue holds %d messages, want 0", n)
	}
}

func TestConsumer_PoisonMessageIsDeadLetteredAndOthersFlow(t *testing.T) {
	t.Parallel()
	conn := NewConnection(testenv.Require(t, "TEST_RABBITMQ_URL"), quietLogger())
	defer conn.Close()
	service, name := testService(t)
	deleteQueues(t, conn, service)

	poison := ticketEvent(t, name, 666)
	var poisonCalls, good atomic.Int32
	c := NewConsumer(conn, service, quietLogger())
	c.RetryBase = 10 * time.Millisecond
	c.Handle(name, func(_ context.Context, e Envelope) error {
		if e.ID == poison.ID {
			poisonCalls.Add(1)
			return errors.New("this event always fails")
		}
		good.Add(1)
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	consume(t, c)
	pub := NewPublisher(conn)
	if err := pub.Publish(ctx, poison); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := pub.Publish(ctx, ticketEvent(t, name, int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	// A malformed message cannot be decoded at all: dead-lettered at once.
	ch, err := conn.Channel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.PublishWithContext(ctx, Exchange, string(name), true, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(`{"not":"an envelope"`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "poison and malformed messages did not reach the dead-letter queue", func() bool {
		return queueDepth(t, conn, DeadLetterQueueName(service)) == 2
	})
	if good.Load() != 20 {
		t.Fatalf("good events handled: %d, want 20", good.Load())
	}
	if n := poisonCalls.Load(); n != MaxDeliveries {
		t.Fatalf("poison event handled %d times, want MaxDeliveries = %d", n, MaxDeliveries)
	}
	var ids []string
	for i := 0; i < 2; i++ {
		msg, ok, err := ch.Get(DeadLetterQueueName(service), true)
		if err != nil || !ok {
			t.Fatalf("reading the dead-letter queue: %v %v", ok, err)
		}
		ids = append(ids, msg.MessageId)
	}
	if ids[0] != poison.ID && ids[1] != poison.ID {
		t.Fatalf("dead letters %v do not include the poison event %s", ids, poison.ID)
	}
}

func TestConsumer_DuplicateDeliveryReachesHandlerAgain(t *testing.T) {
	t.Parallel()
	// The broker may deliver an event twice (a relay crash between confirm
	// and mark); the consumer passes both on and the handler's idempotency
	// decides. This pins that the consumer does not silently drop one.
	conn := NewConnection(testenv.Require(t, "TEST_RABBITMQ_URL"), quietLogger())
	defer conn.Close()
	service, name := testService(t)
	deleteQueues(t, conn, service)
	var seen atomic.Int32
	c := NewConsumer(conn, service, quietLogger())
	c.Handle(name, func(context.Context, Envelope) error { seen.Add(1); return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	consume(t, c)
	e := ticketEvent(t, name, 3)
	pub := NewPublisher(conn)
	if err := pub.Publish(ctx, e, e); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "both deliveries should reach the handler", func() bool { return seen.Load() == 2 })
}

func queueDepth(t *testing.T, conn *Connection, queue string) int {
	t.Helper()
	ch, err := conn.Channel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	if err != nil {
		t.Fatalf("inspect %s: %v", queue, err)
	}
	return q.Messages
}
