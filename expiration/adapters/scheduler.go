// Package adapters connects the expiration service to Asynq on Redis, to
// its Mongo database and outbox, and to RabbitMQ.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/ticketing/expiration/domain"
)

// Asynq names.
//
// WARNING: tasks already scheduled in Redis carry these names; renaming one
// strands them.
const (
	// Queue is the Asynq queue of order timeouts.
	Queue = "expiration"
	// TaskExpireOrder is the task type of an order's timeout.
	TaskExpireOrder = "order:expire"
)

// retention keeps a fired task's id in Redis this long, so a late
// redelivery of order.created cannot schedule the same order again.
const retention = 48 * time.Hour

// ExpirePayload is the Asynq task's payload.
type ExpirePayload struct {
	OrderID       string `json:"orderId"`
	CorrelationID string `json:"correlationId,omitempty"`
}

// AsynqScheduler schedules timeouts as Asynq tasks whose id is the order id:
// Redis then holds at most one task per order.
type AsynqScheduler struct {
	client    *asynq.Client
	inspector *asynq.Inspector
}

var _ domain.Scheduler = (*AsynqScheduler)(nil)

// NewAsynqScheduler returns a scheduler on the Redis at opt.
func NewAsynqScheduler(opt asynq.RedisClientOpt) *AsynqScheduler {
	return &AsynqScheduler{client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt)}
}

type correlationKey struct{}

// WithCorrelationID carries the correlation id of the event that scheduled
// a timeout into the task, so its expiration.completed continues the trail.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// Schedule implements domain.Scheduler.
func (s *AsynqScheduler) Schedule(ctx context.Context, t domain.Timeout) (bool, error) {
	corr, _ := ctx.Value(correlationKey{}).(string)
	payload, err := json.Marshal(ExpirePayload{OrderID: t.OrderID(), CorrelationID: corr})
	if err != nil {
		return false, err
	}
	_, err = s.client.EnqueueContext(ctx, asynq.NewTask(TaskExpireOrder, payload),
		asynq.TaskID(t.OrderID()), asynq.ProcessAt(t.ExpiresAt()), asynq.Queue(Queue),
		asynq.MaxRetry(50), asynq.Retention(retention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// Unschedule implements domain.Scheduler. A task already running cannot be
// deleted; it fires, and the orders service ignores an expiry of an order
// that is no longer active.
func (s *AsynqScheduler) Unschedule(_ context.Context, orderID string) error {
	err := s.inspector.DeleteTask(Queue, orderID)
	switch {
	case err == nil, errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return nil
	}
	info, getErr := s.inspector.GetTaskInfo(Queue, orderID)
	if getErr == nil && (info.State == asynq.TaskStateActive || info.State == asynq.TaskStateCompleted) {
		return nil
	}
	return fmt.Errorf("unschedule %s: %w", orderID, err)
}

// QueueState is the timeout queue's state, shown by /readyz.
type QueueState struct {
	Scheduled int `json:"scheduled"`
	Pending   int `json:"pending"`
	Active    int `json:"active"`
	Retry     int `json:"retry"`
	Archived  int `json:"archived"`
	Completed int `json:"completed"`
}

// State reads the queue's state from Redis; it fails when Redis does.
func (s *AsynqScheduler) State(context.Context) (any, error) {
	// GetQueueInfo does not wrap ErrQueueNotFound, so ask for the queues
	// first: a queue appears with its first task.
	queues, err := s.inspector.Queues()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(queues, Queue) {
		return QueueState{}, nil // nothing was ever scheduled
	}
	info, err := s.inspector.GetQueueInfo(Queue)
	if err != nil {
		return nil, err
	}
	return QueueState{Scheduled: info.Scheduled, Pending: info.Pending, Active: info.Active,
		Retry: info.Retry, Archived: info.Archived, Completed: info.Completed}, nil
}

// Close closes the Redis connections.
func (s *AsynqScheduler) Close() error {
	return errors.Join(s.client.Close(), s.inspector.Close())
}
