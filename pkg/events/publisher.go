package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrUnroutable is returned when the broker accepted an event but no queue
// is bound for it (a consumer has not declared its queue yet): the event is
// kept and published again later, never dropped.
var ErrUnroutable = errors.New("events: no queue is bound for the event")

// Publisher publishes events as persistent, mandatory messages on a channel
// in confirm mode; Publish returns only once the broker has confirmed every
// event, so a confirmed event survives a broker restart.
type Publisher struct {
	conn *Connection

	mu       sync.Mutex // guards ch and publishing on it
	ch       *amqp.Channel
	returns  chan amqp.Return
	returned map[string]bool // message ids the broker returned as unroutable
}

// NewPublisher returns a publisher on conn.
func NewPublisher(conn *Connection) *Publisher {
	return &Publisher{conn: conn, returned: map[string]bool{}}
}

// Publish sends the events in order and waits for the broker's confirms.
// Concurrent calls pipeline on one channel.
func (p *Publisher) Publish(ctx context.Context, envs ...Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	confirms, err := p.send(ctx, envs)
	if err != nil {
		return err
	}
	for i, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("events: confirm of %s %s: %w", envs[i].Type, envs[i].ID, err)
		}
		if !acked {
			return fmt.Errorf("events: broker refused %s %s", envs[i].Type, envs[i].ID)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainReturns()
	var unroutable error
	for _, e := range envs {
		if p.returned[e.ID] {
			delete(p.returned, e.ID)
			unroutable = fmt.Errorf("%w: %s %s", ErrUnroutable, e.Type, e.ID)
		}
	}
	return unroutable
}

func (p *Publisher) send(ctx context.Context, envs []Envelope) ([]*amqp.DeferredConfirmation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.channel(ctx); err != nil {
		return nil, err
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(envs))
	for _, e := range envs {
		body, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("events: encode %s: %w", e.Type, err)
		}
		msg := amqp.Publishing{
			ContentType:   "application/json",
			DeliveryMode:  amqp.Persistent,
			MessageId:     e.ID,
			CorrelationId: e.CorrelationID,
			Type:          string(e.Type),
			Timestamp:     e.OccurredAt,
			Body:          body,
		}
		if e.Traceparent != "" {
			msg.Headers = amqp.Table{"traceparent": e.Traceparent}
		}
		dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, Exchange, string(e.Type), true, false, msg)
		if err != nil {
			p.closeChannel()
			return nil, fmt.Errorf("events: publish %s: %w", e.Type, err)
		}
		confirms = append(confirms, dc)
	}
	return confirms, nil
}

// channel opens a confirm-mode channel when there is none (or it closed).
func (p *Publisher) channel(ctx context.Context) error {
	if p.ch != nil && !p.ch.IsClosed() {
		return nil
	}
	ch, err := p.conn.Channel(ctx)
	if err != nil {
		return err
	}
	if err := declareExchanges(ch); err != nil {
		_ = ch.Close()
		return fmt.Errorf("events: declare exchanges: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("events: confirm mode: %w", err)
	}
	// The broker sends basic.return before the basic.ack of the same
	// message, and the client delivers both from one reader, so a return
	// is in this buffer by the time its confirm resolves.
	p.returns = ch.NotifyReturn(make(chan amqp.Return, 4096))
	p.ch = ch
	return nil
}

func (p *Publisher) drainReturns() {
	for {
		select {
		case r, ok := <-p.returns:
			if !ok {
				return
			}
			p.returned[r.MessageId] = true
		default:
			return
		}
	}
}

func (p *Publisher) closeChannel() {
	if p.ch != nil {
		_ = p.ch.Close()
		p.ch = nil
	}
}

// Close closes the publisher's channel.
func (p *Publisher) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeChannel()
}
