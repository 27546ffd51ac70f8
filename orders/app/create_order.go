package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// CreateOrder is a buyer's order of a ticket, as the client sent it.
type CreateOrder struct {
	BuyerID  string
	TicketID string
}

// CreateOrderHandler creates orders.
type CreateOrderHandler struct {
	orders  domain.Repository
	tickets domain.TicketReplica
	perms   Permissions
	limits  OrderLimits
	limiter Limiter
	holds   Limiter
	now     func() time.Time
	logger  *slog.Logger
}

// OrderLimits bound what one buyer's orders may hold.
type OrderLimits struct {
	// Window is how long an order holds its ticket.
	Window time.Duration
	// MaxHolds is how many created (unpaid) orders a buyer may have at once.
	MaxHolds int
}

// NewCreateOrderHandler returns the create-order use case; orders hold
// their ticket for limits.Window, a buyer holds at most limits.MaxHolds,
// limiter paces each buyer's order creations and holds each buyer's holds
// of one ticket.
func NewCreateOrderHandler(orders domain.Repository, tickets domain.TicketReplica, perms Permissions, limits OrderLimits, limiter, holds Limiter, logger *slog.Logger) CreateOrderHandler {
	return CreateOrderHandler{orders: orders, tickets: tickets, perms: perms, limits: limits, limiter: limiter, holds: holds, now: time.Now, logger: logger}
}

// Handle creates the order. Order of writes: the order (with its
// order.created event, and flagged "grants pending"), then its Keto tuples
// in one call, then the flag is cleared. The unique active ticket id
// decides between concurrent buyers: the loser's insert fails
// (ErrTicketUnavailable) and writes nothing; the unique hold slots decide
// between one buyer's concurrent orders: beyond MaxHolds the insert fails
// (ErrTooManyHolds). The limiter is asked first, so a buyer over the
// rate is refused (429) before any work.
//
// A buyer's holds of one ticket are paced too (holds, keyed by buyer and
// ticket), so that cancelling and ordering again at once cannot keep a
// ticket from everyone else forever: the pace is checked before the insert
// and counted once the order holds the ticket, so an attempt that holds
// nothing (unknown ticket, own ticket, taken, a dependency down) costs
// nothing. One buyer cannot hold one ticket twice at once (the unique
// active ticket id), and the hold is counted before its id is answered,
// so no hold escapes the count.
//
// If the tuples cannot be written the order is cancelled again (its
// order.cancelled event follows) and the client gets the error, so that
// retrying works; if even that fails, RepairGrants writes the tuples later.
func (h CreateOrderHandler) Handle(ctx context.Context, cmd CreateOrder) (*domain.Order, error) {
	if err := h.admit(ctx, cmd.BuyerID); err != nil {
		return nil, err
	}
	ticketID, err := domain.ParseID("ticketId", cmd.TicketID)
	if err != nil {
		return nil, err
	}
	ticket, err := h.tickets.Get(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	allowed, err := h.perms.CanOrderTicket(ctx, cmd.BuyerID, ticketID)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, domain.ErrOwnTicket
	}
	holdKey := cmd.BuyerID + ":" + ticketID
	if err := h.mayHold(ctx, holdKey); err != nil {
		return nil, err
	}
	order, err := domain.NewOrder(h.orders.NextID(), cmd.BuyerID, ticket, h.now(), h.limits.Window)
	if err != nil {
		return nil, err
	}
	if err := h.orders.Add(ctx, order, h.limits.MaxHolds); err != nil {
		return nil, err
	}
	if err := h.perms.GrantOrder(ctx, order); err != nil {
		h.withdraw(ctx, order)
		return nil, err
	}
	if err := h.orders.GrantsDone(ctx, order.ID()); err != nil {
		h.logger.WarnContext(ctx, "order granted but still flagged; the repairer clears it",
			slog.String("order_id", order.ID()), slog.String("error", err.Error()))
	}
	if _, _, err := h.holds.Allow(ctx, holdKey); err != nil {
		h.logger.WarnContext(ctx, "hold made but not counted against the buyer's pace on the ticket",
			slog.String("order_id", order.ID()), slog.String("error", err.Error()))
	}
	return order, nil
}

// mayHold asks whether the buyer may hold the ticket (key) once more now,
// counting nothing.
func (h CreateOrderHandler) mayHold(ctx context.Context, key string) error {
	allowed, retryAfter, err := h.holds.Check(ctx, key)
	switch {
	case err != nil:
		return apierr.Unavailable("the rate limiter", err)
	case !allowed:
		return apierr.RateLimitedFor("this ticket was ordered and let go too often: retry later, or order another ticket", retryAfter)
	}
	return nil
}

// withdraw cancels an order whose tuples could not be written.
func (h CreateOrderHandler) withdraw(ctx context.Context, order *domain.Order) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := h.orders.Update(ctx, order.ID(), func(o *domain.Order) (bool, error) { return o.Cancel() })
	if err != nil {
		h.logger.ErrorContext(ctx, "order without tuples not withdrawn; the repairer grants it",
			slog.String("order_id", order.ID()), slog.String("error", err.Error()))
	}
}

// admit asks the limiter whether the buyer may create one more order now.
func (h CreateOrderHandler) admit(ctx context.Context, buyerID string) error {
	allowed, retryAfter, err := h.limiter.Allow(ctx, buyerID)
	switch {
	case err != nil:
		return apierr.Unavailable("the rate limiter", err)
	case !allowed:
		return rateLimited(retryAfter)
	}
	return nil
}
