package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Handler reacts to one event. It must be idempotent: a redelivered event
// changes nothing. Returning an error retries the event with backoff (up to
// MaxDeliveries); an error wrapping ErrMalformed dead-letters it at once.
type Handler func(ctx context.Context, e Envelope) error

// Consumer delivers a service's queue to its handlers with manual acks,
// bounded concurrency, bounded retries and a dead-letter queue.
type Consumer struct {
	conn     *Connection
	service  string
	log      *slog.Logger
	handlers map[Name]Handler
	// Prefetch bounds the deliveries in flight, and so the handlers
	// running at once.
	Prefetch int
	// HandlerTimeout bounds one handler call.
	HandlerTimeout time.Duration
	// RetryBase is the backoff before the first retry; it doubles per try.
	RetryBase time.Duration
}

// NewConsumer returns a consumer of service's queue (QueueName(service)).
func NewConsumer(conn *Connection, service string, log *slog.Logger) *Consumer {
	return &Consumer{
		conn: conn, service: service, log: log, handlers: map[Name]Handler{},
		Prefetch: 32, HandlerTimeout: 30 * time.Second, RetryBase: 200 * time.Millisecond,
	}
}

// Handle registers h for events named n and binds the queue to n.
func (c *Consumer) Handle(n Name, h Handler) { c.handlers[n] = h }

// Run consumes until ctx ends, reconnecting after broker failures. On
// return, every handler that had started has finished and its message is
// acked or returned to the queue.
func (c *Consumer) Run(ctx context.Context) error {
	names := make([]Name, 0, len(c.handlers))
	for n := range c.handlers {
		names = append(names, n)
	}
	for attempt := 0; ; attempt++ {
		err := c.consume(ctx, names)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("event consumer interrupted; reconnecting", "queue", QueueName(c.service), "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff(attempt, 100*time.Millisecond, 2*time.Second)):
		}
	}
}

// Declare declares the service's queue and bindings without consuming, so
// that events published before the consumer runs are kept.
func (c *Consumer) Declare(ctx context.Context) error {
	ch, err := c.conn.Channel(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	names := make([]Name, 0, len(c.handlers))
	for n := range c.handlers {
		names = append(names, n)
	}
	return declareQueue(ch, c.service, names)
}

func (c *Consumer) consume(ctx context.Context, names []Name) error {
	ch, err := c.conn.Channel(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := declareQueue(ch, c.service, names); err != nil {
		return fmt.Errorf("declare topology: %w", err)
	}
	if err := ch.Qos(c.Prefetch, 0, false); err != nil {
		return err
	}
	tag := c.service + "-consumer"
	deliveries, err := ch.ConsumeWithContext(context.WithoutCancel(ctx), QueueName(c.service), tag, false, false, false, false, nil)
	if err != nil {
		return err
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		select {
		case <-ctx.Done():
			// Stop new deliveries; the deferred Wait lets in-flight handlers
			// finish and ack before the channel closes, and the broker
			// requeues whatever was prefetched but not started.
			_ = ch.Cancel(tag, false)
			return nil
		case amqpErr := <-closed:
			return fmt.Errorf("channel closed: %v", amqpErr)
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("delivery channel closed")
			}
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				c.deliver(ctx, d)
			}()
		}
	}
}

// deliver runs the handler for one message and settles it.
func (c *Consumer) deliver(ctx context.Context, d amqp.Delivery) {
	e, err := Decode(d.Body)
	log := c.log.With("queue", QueueName(c.service), "routing_key", d.RoutingKey, "message_id", d.MessageId)
	if err != nil {
		log.Error("dead-lettering a malformed message", "error", err)
		_ = d.Nack(false, false)
		return
	}
	log = log.With("event", e.Type, "event_id", e.ID, "correlation_id", e.CorrelationID)
	h, ok := c.handlers[e.Type]
	if !ok {
		log.Warn("no handler for event; acknowledged and ignored")
		_ = d.Ack(false)
		return
	}
	// Handlers run to completion even while the service shuts down, so
	// nothing is left half-done; the timeout still bounds them.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.HandlerTimeout)
	err = h(hctx, e)
	cancel()
	if err == nil {
		_ = d.Ack(false)
		return
	}
	delivery := deliveryCount(d) + 1
	switch {
	case errors.Is(err, ErrMalformed):
		log.Error("dead-lettering an event its handler cannot process", "error", err)
		_ = d.Nack(false, false)
	case delivery >= MaxDeliveries:
		log.Error("dead-lettering an event after its last retry", "error", err, "deliveries", delivery)
		_ = d.Nack(false, false)
	default:
		wait := backoff(delivery-1, c.RetryBase, 10*time.Second)
		log.Warn("event handler failed; retrying", "error", err, "deliveries", delivery, "backoff", wait.String())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		_ = d.Nack(false, true)
	}
}

// deliveryCount is how often the broker delivered this message before: the
// x-delivery-count header of quorum queues.
func deliveryCount(d amqp.Delivery) int {
	switch v := d.Headers["x-delivery-count"].(type) {
	case int64:
		return int(v)
	case int32:
		return int(v)
	case int:
		return v
	}
	return 0
}
