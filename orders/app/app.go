// Package app holds the orders use cases, one per file. They speak domain
// types and depend on the narrow interfaces declared here and in domain,
// which the adapters implement.
package app

import (
	"context"
	"time"

	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// Application is the orders use cases, as the ports call them.
type Application struct {
	// Requests of signed-in users.
	CreateOrder CreateOrderHandler
	CancelOrder CancelOrderHandler
	GetOrder    GetOrderHandler
	ListOrders  ListOrdersHandler
	// Events of the other services.
	ApplyTicket        ApplyTicketHandler
	ConfirmReservation ConfirmReservationHandler
	RefuseOrder        RefuseOrderHandler
	ExpireOrder        ExpireOrderHandler
	CompleteOrder      CompleteOrderHandler
	RefundOrder        RefundOrderHandler
	// Background work.
	RepairGrants   RepairGrantsHandler
	ReleaseOverdue ReleaseOverdueHandler
}

// Permissions is the permission server (Keto) as the use cases need it.
// Errors are *apierr.Error values (Keto unavailable → 503).
type Permissions interface {
	// CanOrderTicket: Ticket:<ticketID>#order@User:<userID> (anyone but
	// the seller).
	CanOrderTicket(ctx context.Context, userID, ticketID string) (bool, error)
	// CanViewOrder: Order:<orderID>#view (the buyer, the ticket's seller,
	// an admin).
	CanViewOrder(ctx context.Context, userID, orderID string) (bool, error)
	// CanEditOrder: Order:<orderID>#edit (the buyer).
	CanEditOrder(ctx context.Context, userID, orderID string) (bool, error)
	// GrantOrder writes the order's tuples (buyer as owner, the ticket as
	// parent, the admin group) in one call; writing them again is harmless.
	GrantOrder(ctx context.Context, o *domain.Order) error
}

// Limiter paces requests per key (a buyer's order creations, a buyer's
// holds of one ticket); a *ratelimit.Limiter, shared by every instance
// through Redis. Allow counts one request for key and reports whether it
// is admitted, and if not, how long until one would be; Check answers the
// same without counting.
type Limiter interface {
	Allow(ctx context.Context, key string) (allowed bool, retryAfter time.Duration, err error)
	Check(ctx context.Context, key string) (allowed bool, retryAfter time.Duration, err error)
}

// rateLimited is the answer to a buyer over the order rate: 429 with
// Retry-After.
func rateLimited(retryAfter time.Duration) error {
	return apierr.RateLimitedFor("too many orders in a short time: retry later", retryAfter)
}
