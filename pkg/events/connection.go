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

// Connection is a self-healing AMQP connection shared by a service's
// publisher and consumer: when the broker goes away, the next call dials
// again, with backoff, until its context ends.
type Connection struct {
	url string
	log *slog.Logger

	mu   sync.Mutex
	conn *amqp.Connection
}

// NewConnection returns a connection to url; it dials on first use.
func NewConnection(url string, log *slog.Logger) *Connection {
	return &Connection{url: url, log: log}
}

// Channel opens a new channel, dialling the broker first if needed.
func (c *Connection) Channel(ctx context.Context) (*amqp.Channel, error) {
	for attempt := 0; ; attempt++ {
		conn, err := c.connection()
		if err == nil {
			ch, err2 := conn.Channel()
			if err2 == nil {
				return ch, nil
			}
			err = err2
			c.reset(conn)
		}
		if attempt%10 == 0 {
			c.log.Warn("rabbitmq unavailable; retrying", "error", err.Error(), "attempt", attempt+1)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("rabbitmq: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(backoff(attempt, 50*time.Millisecond, 2*time.Second)):
		}
	}
}

func (c *Connection) connection() (*amqp.Connection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && !c.conn.IsClosed() {
		return c.conn, nil
	}
	conn, err := amqp.DialConfig(c.url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Properties: amqp.Table{"connection_name": "ticketing"},
	})
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return conn, nil
}

func (c *Connection) reset(conn *amqp.Connection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		_ = conn.Close()
		c.conn = nil
	}
}

// Ready reports whether the broker is reachable now (for /readyz).
func (c *Connection) Ready(ctx context.Context) error {
	conn, err := c.connection()
	if err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	if conn.IsClosed() {
		return errors.New("rabbitmq: connection closed")
	}
	return nil
}

// Close closes the connection.
func (c *Connection) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// backoff is exponential from base to limit.
func backoff(attempt int, base, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
