package app

import (
	"context"
	"errors"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/docstore"
)

// CreatePayment is the buyer's request to pay an order.
type CreatePayment struct {
	UserID        string
	OrderID       string
	PaymentMethod string
}

// CreatePaymentHandler starts the payment of an order: one payment per
// order, whatever the number of calls.
type CreatePaymentHandler struct {
	payments domain.Repository
	orders   domain.OrderReplica
	source   Orders
	perms    Permissions
	stripe   Stripe
	locks    *docstore.Locks
	now      func() time.Time
}

// NewCreatePaymentHandler returns the use case.
// orders is the replica, source the orders service behind it.
func NewCreatePaymentHandler(payments domain.Repository, orders domain.OrderReplica, source Orders, perms Permissions, stripe Stripe) CreatePaymentHandler {
	return CreatePaymentHandler{
		payments: payments, orders: orders, source: source, perms: perms, stripe: stripe,
		locks: &docstore.Locks{}, now: time.Now,
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

// order reads the replica. An order it does not hold yet (its buyer pays
// it before order.created arrived, as a buyer who pays at once does while
// the events queue up) is asked of the orders service, with the buyer's own
// session, and stored as its event would store it: the replica keeps the
// newest version whichever comes first, so the buyer reads their own write
// however far the events lag.
func (h CreatePaymentHandler) order(ctx context.Context, id string) (domain.Order, error) {
	o, err := h.orders.Get(ctx, id)
	if !errors.Is(err, domain.ErrOrderNotFound) {
		return o, err
	}
	if o, err = h.source.Order(ctx, id); err != nil {
		return domain.Order{}, err
	}
	if _, err := h.orders.Apply(ctx, o); err != nil {
		return domain.Order{}, err
	}
	return o, nil
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
