package app

import (
	"context"
	"fmt"

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
}

// NewRefunder returns the refunder every use case that refunds shares.
func NewRefunder(payments domain.Repository, stripe Stripe) Refunder {
	return Refunder{payments: payments, stripe: stripe, locks: &docstore.Locks{}}
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
	if !p.Free() {
		if p.StripeID() == "" {
			return nil, fmt.Errorf("payment %s succeeded without a PaymentIntent", id)
		}
		if err := r.stripe.Refund(ctx, p.ID(), p.StripeID()); err != nil {
			return nil, err
		}
	}
	return r.payments.Update(ctx, id, func(p *domain.Payment) (bool, error) {
		return p.Refund()
	})
}
