package app

import (
	"context"
	"errors"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/docstore"
)

// CreatePayment is the buyer's request to pay an order.
type CreatePayment struct {
	UserID        string
	OrderID       string
	PaymentMethod string
}

// errOrderNotReplicated: Keto knows the order (its buyer asks) but the
// order.created event has not reached payments yet.
var errOrderNotReplicated = apierr.New(apierr.KindUnavailable, "order_not_ready",
	"the order is not known to payments yet; retry in a moment")

// CreatePaymentHandler starts the payment of an order: one payment per
// order, whatever the number of calls.
type CreatePaymentHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	perms    Permissions
	stripe   Stripe
	locks    *docstore.Locks
	now      func() time.Time
	// ReplicaWait is how long a call waits for an order its buyer has
	// just created to reach the replica.
	ReplicaWait time.Duration
}

// NewCreatePaymentHandler returns the use case.
func NewCreatePaymentHandler(payments domain.Repository, orders domain.OrderReplica, perms Permissions, stripe Stripe) CreatePaymentHandler {
	return CreatePaymentHandler{
		payments: payments, orders: orders, perms: perms, stripe: stripe,
		locks: &docstore.Locks{}, now: time.Now, ReplicaWait: 3 * time.Second,
	}
}

// Handle pays cmd.OrderID for its buyer and reports whether it created the
// payment (201) or answers the existing one (200).
//
// Order of writes: the payment is inserted pending (the unique orderId
// index lets one insert win, ever), its tuples are written in one batch and
// its grantsPending flag cleared, then the PaymentIntent is created with an
// idempotency key derived from the order and stored. A call that stopped
// half-way is finished by the next call for the order (same idempotency
// key: the same PaymentIntent) or, for the tuples, by the repairer.
func (h CreatePaymentHandler) Handle(ctx context.Context, cmd CreatePayment) (*domain.Payment, bool, error) {
	if err := h.authorize(ctx, cmd); err != nil {
		return nil, false, err
	}
	order, err := h.order(ctx, cmd.OrderID)
	if err != nil {
		return nil, false, err
	}
	if err := order.Payable(); err != nil {
		return nil, false, err
	}
	// Calls for one order take turns in this process, so a double click
	// reaches Stripe once; between processes the unique index and the
	// idempotency key keep one payment and one PaymentIntent.
	unlock := h.locks.Lock(order.ID)
	defer unlock()
	existing, err := h.payments.ByOrder(ctx, order.ID)
	switch {
	case err == nil:
		return h.resume(ctx, existing, cmd)
	case !errors.Is(err, domain.ErrPaymentNotFound):
		return nil, false, err
	}
	p, err := domain.NewPayment(h.payments.NextID(), order, h.now())
	if err != nil {
		return nil, false, err
	}
	err = h.payments.Add(ctx, p)
	if errors.Is(err, domain.ErrPaymentExists) {
		if existing, err = h.payments.ByOrder(ctx, order.ID); err != nil {
			return nil, false, err
		}
		return h.resume(ctx, existing, cmd)
	}
	if err != nil {
		return nil, false, err
	}
	if err := h.grant(ctx, p); err != nil {
		return nil, false, err
	}
	if p, err = h.attachIntent(ctx, p, cmd.PaymentMethod); err != nil {
		return nil, false, err
	}
	return p, true, nil
}

// authorize lets only the order's buyer pay; the seller may see the order
// (403), anyone else may not know it exists (404).
func (h CreatePaymentHandler) authorize(ctx context.Context, cmd CreatePayment) error {
	ok, err := h.perms.CanEditOrder(ctx, cmd.UserID, cmd.OrderID)
	if err != nil || ok {
		return err
	}
	visible, err := h.perms.CanViewOrder(ctx, cmd.UserID, cmd.OrderID)
	if err != nil {
		return err
	}
	if !visible {
		return domain.ErrOrderNotFound
	}
	// The order's tuples may have appeared between the two checks (the
	// orders service repairing an order whose creation crashed before them):
	// ask again before telling its buyer they are not the buyer.
	if ok, err = h.perms.CanEditOrder(ctx, cmd.UserID, cmd.OrderID); err != nil || ok {
		return err
	}
	return domain.ErrNotOrderBuyer
}

// order reads the replica, waiting a moment for an order whose buyer was
// just told it exists.
func (h CreatePaymentHandler) order(ctx context.Context, id string) (domain.Order, error) {
	deadline := h.now().Add(h.ReplicaWait)
	for {
		o, err := h.orders.Get(ctx, id)
		if !errors.Is(err, domain.ErrOrderNotFound) {
			return o, err
		}
		if h.now().After(deadline) {
			return domain.Order{}, errOrderNotReplicated
		}
		select {
		case <-ctx.Done():
			return domain.Order{}, errOrderNotReplicated.WithCause(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resume answers a second call for an order: the same payment while it is
// pending or failed, finishing what an earlier call left undone.
func (h CreatePaymentHandler) resume(ctx context.Context, p *domain.Payment, cmd CreatePayment) (*domain.Payment, bool, error) {
	if p.Status() == domain.StatusSucceeded || p.Status() == domain.StatusRefunded {
		return nil, false, domain.ErrOrderPaid
	}
	if err := h.grant(ctx, p); err != nil {
		return nil, false, err
	}
	p, err := h.attachIntent(ctx, p, cmd.PaymentMethod)
	return p, false, err
}

// grant writes the payment's tuples and clears its flag.
func (h CreatePaymentHandler) grant(ctx context.Context, p *domain.Payment) error {
	if err := h.perms.GrantPayment(ctx, p); err != nil {
		return err
	}
	return h.payments.GrantsDone(ctx, p.ID())
}

// attachIntent creates the PaymentIntent of a payment that has none and
// stores it; the first one stored stays.
func (h CreatePaymentHandler) attachIntent(ctx context.Context, p *domain.Payment, paymentMethod string) (*domain.Payment, error) {
	if !p.NeedsIntent() {
		return p, nil
	}
	intent, err := h.stripe.CreateIntent(ctx, IntentRequest{
		PaymentID: p.ID(), OrderID: p.OrderID(), Amount: p.Amount(), Currency: p.Currency(), PaymentMethod: paymentMethod,
	})
	if err != nil {
		return nil, err
	}
	return h.payments.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		return p.AttachIntent(intent.ID, intent.ClientSecret), nil
	})
}
