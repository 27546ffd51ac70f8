package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ticketing/ticketing/orders/domain"
)

// The use cases driven by other services' events. Each is idempotent: a
// redelivered event finds the order already changed and changes nothing.
// An unknown order id is logged and ignored: orders are created here
// first, so such an event cannot become applicable later.

// ExpireOrderHandler ends the hold window (expiration.completed).
type ExpireOrderHandler struct{ changer orderChanger }

// CompleteOrderHandler records a successful payment (payment.succeeded).
type CompleteOrderHandler struct{ changer orderChanger }

// RefundOrderHandler records a refund (payment.refunded).
type RefundOrderHandler struct{ changer orderChanger }

// NewExpireOrderHandler returns the expiration use case.
func NewExpireOrderHandler(orders domain.Repository, logger *slog.Logger) ExpireOrderHandler {
	return ExpireOrderHandler{orderChanger{orders: orders, logger: logger}}
}

// NewCompleteOrderHandler returns the payment use case.
func NewCompleteOrderHandler(orders domain.Repository, logger *slog.Logger) CompleteOrderHandler {
	return CompleteOrderHandler{orderChanger{orders: orders, logger: logger}}
}

// NewRefundOrderHandler returns the refund use case.
func NewRefundOrderHandler(orders domain.Repository, logger *slog.Logger) RefundOrderHandler {
	return RefundOrderHandler{orderChanger{orders: orders, logger: logger}}
}

// Handle cancels the order unless it is no longer created (a paid order
// stays paid).
func (h ExpireOrderHandler) Handle(ctx context.Context, orderID string) error {
	return h.changer.change(ctx, "expire", orderID, func(o *domain.Order) bool { return o.Expire() })
}

// Handle completes a created order with paymentID once its ticket is
// reserved for it; before that the payment is kept and completes the order
// on the reservation (domain.Order.Complete). For an order that is no
// longer created nothing changes: payments refunds a late payment.
func (h CompleteOrderHandler) Handle(ctx context.Context, orderID, paymentID string) error {
	return h.changer.change(ctx, "complete", orderID, func(o *domain.Order) bool { return o.Complete(paymentID) })
}

// ConfirmReservationHandler records that the tickets service reserved an
// order's ticket (a ticket event naming the order).
type ConfirmReservationHandler struct{ changer orderChanger }

// NewConfirmReservationHandler returns the confirmation use case.
func NewConfirmReservationHandler(orders domain.Repository, logger *slog.Logger) ConfirmReservationHandler {
	return ConfirmReservationHandler{orderChanger{orders: orders, logger: logger}}
}

// Handle confirms the order if it is created for ticketID and not yet
// confirmed (completing it when its payment came first); anything else
// changes nothing.
func (h ConfirmReservationHandler) Handle(ctx context.Context, orderID, ticketID string) error {
	return h.changer.change(ctx, "confirm", orderID, func(o *domain.Order) bool {
		return o.Ticket().ID == ticketID && o.ConfirmReservation()
	})
}

// RefuseOrderHandler cancels an order the tickets service refused
// (ticket.reservation_refused).
type RefuseOrderHandler struct{ changer orderChanger }

// NewRefuseOrderHandler returns the refusal use case.
func NewRefuseOrderHandler(orders domain.Repository, logger *slog.Logger) RefuseOrderHandler {
	return RefuseOrderHandler{orderChanger{orders: orders, logger: logger}}
}

// Handle cancels the order, created and unconfirmed, with reason; its
// order.cancelled event frees the hold and has payments refund a payment
// that succeeded meanwhile.
func (h RefuseOrderHandler) Handle(ctx context.Context, orderID, reason string) error {
	return h.changer.change(ctx, "refuse", orderID, func(o *domain.Order) bool { return o.Refuse(reason) })
}

// Handle marks a complete order refunded when paymentID is the payment
// that completed it; a created order forgets paymentID, so that a payment
// refunded before the order completed never completes it
// (domain.Order.Refund).
func (h RefundOrderHandler) Handle(ctx context.Context, orderID, paymentID string) error {
	return h.changer.change(ctx, "refund", orderID, func(o *domain.Order) bool { return o.Refund(paymentID) })
}

type orderChanger struct {
	orders domain.Repository
	logger *slog.Logger
}

func (c orderChanger) change(ctx context.Context, what, orderID string, fn func(*domain.Order) bool) error {
	changed := false
	o, err := c.orders.Update(ctx, orderID, func(o *domain.Order) (bool, error) {
		changed = fn(o)
		return changed, nil
	})
	if errors.Is(err, domain.ErrOrderNotFound) {
		c.logger.WarnContext(ctx, "event for an unknown order; ignored", slog.String("action", what), slog.String("order_id", orderID))
		return nil
	}
	if err != nil {
		return err
	}
	if !changed {
		c.logger.InfoContext(ctx, "event changes nothing; ignored", slog.String("action", what),
			slog.String("order_id", orderID), slog.String("status", string(o.Status())))
	}
	return nil
}
