package ports

import (
	"context"
	"log/slog"

	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
)

// ServiceName names the orders queue (orders.events) and its dead-letter
// queue (orders.events.dead).
// WARNING: renaming it strands the messages of the old queues.
const ServiceName = "orders"

// EventHandlers turns the events orders consumes into use cases. A handler
// returning an error has the event retried, then dead-lettered; malformed
// data is dead-lettered at once (events.ErrMalformed).
type EventHandlers struct {
	app    app.Application
	logger *slog.Logger
}

// NewEventHandlers returns the event port of application.
func NewEventHandlers(application app.Application, logger *slog.Logger) EventHandlers {
	return EventHandlers{app: application, logger: logger}
}

// EventRouter is where handlers are registered: the *events.Consumer of the
// orders queue, which binds the queue to each name.
type EventRouter interface {
	Handle(n events.Name, h events.Handler)
}

var _ EventRouter = (*events.Consumer)(nil)

// Register binds every event orders consumes to its handler.
func (h EventHandlers) Register(c EventRouter) {
	c.Handle(events.TicketCreated, correlated(h.applyTicket))
	c.Handle(events.TicketUpdated, correlated(h.applyTicket))
	c.Handle(events.TicketReservationRefused, correlated(h.refuseOrder))
	c.Handle(events.ExpirationCompleted, correlated(h.expireOrder))
	c.Handle(events.PaymentSucceeded, correlated(h.completeOrder))
	c.Handle(events.PaymentRefunded, correlated(h.refundOrder))
	c.Handle(events.PaymentFailed, correlated(h.paymentFailed))
}

// correlated passes the event's correlation id on to the logs and to the
// events the handler causes.
func correlated(h events.Handler) events.Handler {
	return func(ctx context.Context, e events.Envelope) error {
		if e.CorrelationID != "" {
			ctx = logging.WithCorrelationID(ctx, e.CorrelationID)
		}
		return h(ctx, e)
	}
}

// applyTicket keeps the replica, and confirms the order a ticket event
// names as holding the ticket: the tickets service reserved it for that
// order at the order's price (confirmed even when the replica already
// holds a newer version, since every such event names its order).
func (h EventHandlers) applyTicket(ctx context.Context, e events.Envelope) error {
	t, err := events.DecodeData[events.Ticket](e)
	if err != nil {
		return err
	}
	if t.OrderID != "" {
		if err := h.app.ConfirmReservation.Handle(ctx, t.OrderID, t.ID); err != nil {
			return err
		}
	}
	applied, err := h.app.ApplyTicket.Handle(ctx, domain.Ticket{
		ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency,
		SellerID: t.UserID, Status: t.Status, OrderID: t.OrderID, Version: t.Version,
	})
	if err == nil && !applied {
		h.logger.DebugContext(ctx, "ticket event not newer than the replica; ignored",
			slog.String("ticket_id", t.ID), slog.Int64("version", t.Version))
	}
	return err
}

// refuseOrder cancels the order the tickets service refused to reserve
// a ticket for.
func (h EventHandlers) refuseOrder(ctx context.Context, e events.Envelope) error {
	r, err := events.DecodeData[events.ReservationRefusal](e)
	if err != nil {
		return err
	}
	return h.app.RefuseOrder.Handle(ctx, r.OrderID, cancelReasons[r.Reason])
}

// cancelReasons spells the events' refusal reasons as the domain does.
var cancelReasons = map[string]string{events.RefusalPriceChanged: domain.CancelReasonPriceChanged}

func (h EventHandlers) expireOrder(ctx context.Context, e events.Envelope) error {
	x, err := events.DecodeData[events.Expiration](e)
	if err != nil {
		return err
	}
	return h.app.ExpireOrder.Handle(ctx, x.OrderID)
}

func (h EventHandlers) completeOrder(ctx context.Context, e events.Envelope) error {
	p, err := events.DecodeData[events.Payment](e)
	if err != nil {
		return err
	}
	return h.app.CompleteOrder.Handle(ctx, p.OrderID, p.ID)
}

func (h EventHandlers) refundOrder(ctx context.Context, e events.Envelope) error {
	p, err := events.DecodeData[events.Payment](e)
	if err != nil {
		return err
	}
	return h.app.RefundOrder.Handle(ctx, p.OrderID, p.ID)
}

// paymentFailed changes nothing: the order keeps its hold until it is paid,
// cancelled or expires. It is bound so that payments' event is routable.
func (h EventHandlers) paymentFailed(ctx context.Context, e events.Envelope) error {
	p, err := events.DecodeData[events.Payment](e)
	if err != nil {
		return err
	}
	h.logger.InfoContext(ctx, "payment failed; the order keeps its hold", slog.String("order_id", p.OrderID), slog.String("payment_id", p.ID))
	return nil
}
