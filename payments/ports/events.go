package ports

import (
	"context"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
)

// ServiceName names the payments queue (payments.events) and its
// dead-letter queue (payments.events.dead).
// WARNING: renaming it strands the messages of the old queues.
const ServiceName = "payments"

// EventHandlers turns the events payments consumes into use cases. A
// handler returning an error has the event retried with backoff, then
// dead-lettered; malformed data is dead-lettered at once.
type EventHandlers struct {
	app app.Application
}

// NewEventHandlers returns the event port of application.
func NewEventHandlers(application app.Application) EventHandlers {
	return EventHandlers{app: application}
}

// Register binds every event payments consumes to its handler: each
// order.* event carries the whole order, so all keep the replica.
func (h EventHandlers) Register(c *events.Consumer) {
	for _, name := range []events.Name{events.OrderCreated, events.OrderCancelled, events.OrderCompleted, events.OrderRefunded} {
		c.Handle(name, h.applyOrder)
	}
}

func (h EventHandlers) applyOrder(ctx context.Context, e events.Envelope) error {
	o, err := events.DecodeData[events.Order](e)
	if err != nil {
		return err
	}
	if e.CorrelationID != "" {
		ctx = logging.WithCorrelationID(ctx, e.CorrelationID)
	}
	return h.app.ApplyOrder.Handle(ctx, domain.Order{
		ID: o.ID, BuyerID: o.UserID, SellerID: o.Ticket.UserID, Status: domain.OrderStatus(o.Status),
		Amount: o.Ticket.Price, Currency: o.Ticket.Currency, Version: o.Version,
	})
}
