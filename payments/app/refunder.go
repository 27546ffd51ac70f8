package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/docstore"
)

// Refunder gives a succeeded payment's money back: first through Stripe
// (idempotency key from the payment, so a retry refunds once), then records
// it (succeeded → refunded with payment.refunded.v1). A crash between the
// two is finished by the retry, or by Stripe's charge.refunded event.
// Refunds of one payment are serialized in the process, so concurrent
// callers make one Stripe call each at most, in turn.
type Refunder struct {
	payments domain.Repository
	stripe   Stripe
	locks    *docstore.Locks
	logger   *slog.Logger
}

// NewRefunder returns the refunder every use case that refunds shares.
func NewRefunder(payments domain.Repository, stripe Stripe, logger *slog.Logger) Refunder {
	return Refunder{payments: payments, stripe: stripe, locks: &docstore.Locks{}, logger: logger}
}

// refund refunds payment id. strict makes a payment that is not succeeded
// an error (the buyer's request: 409); otherwise a payment already refunded,
// or not refundable, is left as it is.
func (r Refunder) refund(ctx context.Context, id string, strict bool) (*domain.Payment, error) {
	unlock := r.locks.Lock(id)
	defer unlock()
	p, err := r.payments.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.CanRefund(); err != nil {
		if strict {
			return nil, err
		}
		return p, nil
	}
	if err := r.giveBack(ctx, p); err != nil {
		return nil, err
	}
	return r.payments.Update(ctx, id, func(p *domain.Payment) (bool, error) {
		return p.Refund()
	})
}

// refundReviewed gives back the money of payment id, held for review, at
// admin by's decision: Stripe refunds what it still holds of the
// PaymentIntent (the same idempotency key as any refund of the payment),
// then review → refunded with payment.refunded.v1.
func (r Refunder) refundReviewed(ctx context.Context, id, by string, now time.Time) (*domain.Payment, error) {
	unlock := r.locks.Lock(id)
	defer unlock()
	p, err := r.payments.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.CanResolve(); err != nil {
		return nil, err
	}
	if err := r.giveBack(ctx, p); err != nil {
		return nil, err
	}
	return r.payments.Update(ctx, id, func(p *domain.Payment) (bool, error) {
		return p.Resolve(domain.ResolveRefund, by, now)
	})
}

// giveBack refunds p's PaymentIntent through Stripe; a free payment moved
// no money.
func (r Refunder) giveBack(ctx context.Context, p *domain.Payment) error {
	if p.Free() {
		return nil
	}
	if p.StripeID() == "" {
		return fmt.Errorf("payment %s took money without a PaymentIntent", p.ID())
	}
	return r.stripe.Refund(ctx, p.ID(), p.StripeID())
}

// refundIfOrderCancelled gives the money back when p succeeded for an
// order that is cancelled, and returns the payment as it is then. The
// order.cancelled consumer makes the same check after updating the
// replica, so whichever of the two comes second sees the other's write.
func (r Refunder) refundIfOrderCancelled(ctx context.Context, orders domain.OrderReplica, p *domain.Payment) (*domain.Payment, error) {
	if p.Status() != domain.StatusSucceeded {
		return p, nil
	}
	o, err := orders.Get(ctx, p.OrderID())
	if errors.Is(err, domain.ErrOrderNotFound) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	if !p.MustRefundFor(o) {
		return p, nil
	}
	r.logger.InfoContext(ctx, "payment succeeded for a cancelled order; refunding", slog.String("payment_id", p.ID()), slog.String("order_id", o.ID))
	return r.refund(ctx, p.ID(), false)
}
