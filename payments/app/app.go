// Package app holds the payments use cases, one per file: start a payment,
// read one, refund one, apply a Stripe webhook event, list payments by
// status and resolve one held for review (admins), keep the order
// replica (refunding what was paid for a cancelled order), and repair the
// permissions a crash left unwritten.
package app

import (
	"context"

	"github.com/ticketing/ticketing/payments/domain"
)

// Application groups the use cases.
type Application struct {
	CreatePayment     CreatePaymentHandler
	GetPayment        GetPaymentHandler
	RefundPayment     RefundPaymentHandler
	ResolvePayment    ResolvePaymentHandler
	ListPayments      ListPaymentsHandler
	HandleStripeEvent HandleStripeEventHandler
	ApplyOrder        ApplyOrderHandler
	RepairGrants      RepairGrantsHandler
}

// Permissions is what payments asks Keto (docs/architecture.md, "Permissions").
type Permissions interface {
	// CanEditOrder: only the order's buyer pays it (Order#edit).
	CanEditOrder(ctx context.Context, userID, orderID string) (bool, error)
	// CanViewOrder: the buyer, the ticket's seller, an admin (Order#view).
	CanViewOrder(ctx context.Context, userID, orderID string) (bool, error)
	// CanViewPayment: the buyer, whoever may view the order, an admin
	// (Payment#view).
	CanViewPayment(ctx context.Context, userID, paymentID string) (bool, error)
	// CanRefundPayment: the buyer or an admin (Payment#refund).
	CanRefundPayment(ctx context.Context, userID, paymentID string) (bool, error)
	// IsAdmin: a member of the admin group (Group:admin#members), who
	// lists payments by status and resolves those held for review.
	IsAdmin(ctx context.Context, userID string) (bool, error)
	// GrantPayment writes the payment's tuples in one call: its buyer owns
	// it, its order is its parent, the admins; writing them again is
	// harmless.
	GrantPayment(ctx context.Context, p *domain.Payment) error
}

// Orders is the orders service, the source of the replica: asked for an
// order its buyer was told of before its order.created reached payments.
type Orders interface {
	// Order returns the order as the caller of the request in ctx may see
	// it; domain.ErrOrderNotFound if they may not.
	Order(ctx context.Context, id string) (domain.Order, error)
}

// IntentRequest asks Stripe for the PaymentIntent of a payment.
type IntentRequest struct {
	PaymentID string
	OrderID   string
	Amount    int64
	Currency  string
	// PaymentMethod, when set, is confirmed at once; otherwise the buyer's
	// client confirms with any automatic payment method.
	PaymentMethod string
}

// Intent is the PaymentIntent Stripe created.
type Intent struct {
	ID           string
	ClientSecret string
}

// Stripe moves the money. Both calls carry idempotency keys derived from
// the order or the payment, so a retry never charges or refunds twice.
type Stripe interface {
	CreateIntent(ctx context.Context, r IntentRequest) (Intent, error)
	// Refund gives the whole amount of the payment's PaymentIntent back.
	Refund(ctx context.Context, paymentID, stripeID string) error
}
