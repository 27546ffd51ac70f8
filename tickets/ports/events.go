package ports

import (
	"context"

	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

// ConsumerName is the tickets service's name on the broker: its queue is
// events.QueueName(ConsumerName) ("tickets.events"), its dead-letter queue
// events.DeadLetterQueueName(ConsumerName).
// WARNING: durable broker state; renaming it strands the queued events.
const ConsumerName = "tickets"

// orderEvents are the events the service consumes, and what each means
// for the ordered ticket.
var orderEvents = map[events.Name]domain.OrderEventKind{
	events.OrderCreated:   domain.OrderCreated,
	events.OrderCancelled: domain.OrderCancelled,
	events.OrderCompleted: domain.OrderCompleted,
	events.OrderRefunded:  domain.OrderRefunded,
}

// Subscriber is where event handlers are registered (an
// *events.Consumer).
type Subscriber interface {
	Handle(n events.Name, h events.Handler)
}

var _ Subscriber = (*events.Consumer)(nil)

// EventHandlers is the AMQP port: it applies order events to tickets.
type EventHandlers struct {
	app app.Application
}

// NewEventHandlers returns the event port for application.
func NewEventHandlers(application app.Application) EventHandlers {
	return EventHandlers{app: application}
}

// Register subscribes to every order event.
func (h EventHandlers) Register(s Subscriber) {
	for name, kind := range orderEvents {
		s.Handle(name, h.orderEvent(kind))
	}
}

// orderEvent handles one kind of order event. A payload that does not
// decode is events.ErrMalformed (dead-lettered at once); a ticket another
// order still holds is an error, retried with backoff by the consumer. The
// order's pinned price and currency go with the event: a ticket is
// reserved only at the price its buyer pays.
func (h EventHandlers) orderEvent(kind domain.OrderEventKind) events.Handler {
	return func(ctx context.Context, e events.Envelope) error {
		order, err := events.DecodeData[events.Order](e)
		if err != nil {
			return err
		}
		ctx = logging.WithCorrelationID(ctx, e.CorrelationID)
		return h.app.ApplyOrder.Handle(ctx, app.ApplyOrder{
			TicketID: order.Ticket.ID,
			Event: domain.OrderEvent{
				Kind: kind, OrderID: order.ID, OrderVersion: order.Version,
				Price: order.Ticket.Price, Currency: order.Ticket.Currency,
			},
		})
	}
}
