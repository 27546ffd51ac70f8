// Package ports receives the expiration service's input: order events from
// RabbitMQ and fired timeouts from Asynq.
package ports

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/ticketing/ticketing/expiration/adapters"
	"github.com/ticketing/ticketing/expiration/app"
	"github.com/ticketing/ticketing/pkg/events"
)

// Subscribe registers the order events the service reacts to.
func Subscribe(c *events.Consumer, a app.Application) {
	c.Handle(events.OrderCreated, func(ctx context.Context, e events.Envelope) error {
		o, err := events.DecodeData[events.Order](e)
		if err != nil {
			return err
		}
		if o.Status != "created" {
			return nil // a created order only ever arrives as created
		}
		return a.Schedule.Handle(adapters.WithCorrelationID(ctx, e.CorrelationID), o.ID, o.ExpiresAt)
	})
	unschedule := func(ctx context.Context, e events.Envelope) error {
		o, err := events.DecodeData[events.Order](e)
		if err != nil {
			return err
		}
		return a.Unschedule.Handle(ctx, o.ID)
	}
	c.Handle(events.OrderCancelled, unschedule)
	c.Handle(events.OrderCompleted, unschedule)
}

// Tasks returns the Asynq handler of fired timeouts.
func Tasks(a app.Application) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(adapters.TaskExpireOrder, func(ctx context.Context, t *asynq.Task) error {
		var p adapters.ExpirePayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		return a.Expire.Handle(ctx, p.OrderID, p.CorrelationID)
	})
	return mux
}
