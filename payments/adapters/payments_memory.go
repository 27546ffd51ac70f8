package adapters

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/ticketing/payments/domain"
)

// MemoryPaymentRepository keeps payments in memory, with the rules of the
// Mongo one (one payment per order, grants flag), for use-case tests. It
// records no events.
type MemoryPaymentRepository struct {
	mu       sync.Mutex
	payments map[string]memoryPayment
}

type memoryPayment struct {
	payment       domain.Payment
	grantsPending bool
}

var _ domain.Repository = (*MemoryPaymentRepository)(nil)

// NewMemoryPaymentRepository returns an empty repository.
func NewMemoryPaymentRepository() *MemoryPaymentRepository {
	return &MemoryPaymentRepository{payments: map[string]memoryPayment{}}
}

// NextID implements domain.Repository.
func (r *MemoryPaymentRepository) NextID() string { return primitive.NewObjectID().Hex() }

// Add implements domain.Repository.
func (r *MemoryPaymentRepository) Add(_ context.Context, p *domain.Payment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.payments {
		if m.payment.OrderID() == p.OrderID() || m.payment.ID() == p.ID() {
			return domain.ErrPaymentExists
		}
	}
	r.payments[p.ID()] = memoryPayment{payment: *p, grantsPending: true}
	return nil
}

// Get implements domain.Repository.
func (r *MemoryPaymentRepository) Get(_ context.Context, id string) (*domain.Payment, error) {
	return r.find(func(p *domain.Payment) bool { return p.ID() == id })
}

// ByOrder implements domain.Repository.
func (r *MemoryPaymentRepository) ByOrder(_ context.Context, orderID string) (*domain.Payment, error) {
	return r.find(func(p *domain.Payment) bool { return p.OrderID() == orderID })
}

// ByStripeID implements domain.Repository.
func (r *MemoryPaymentRepository) ByStripeID(_ context.Context, stripeID string) (*domain.Payment, error) {
	return r.find(func(p *domain.Payment) bool { return stripeID != "" && p.StripeID() == stripeID })
}

// List implements domain.Repository.
func (r *MemoryPaymentRepository) List(_ context.Context, q domain.ListQuery) ([]*domain.Payment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Payment
	for _, m := range r.payments {
		if m.payment.Status() == q.Status && (q.After == "" || m.payment.ID() < q.After) {
			out = append(out, copyOf(&m.payment))
		}
	}
	slices.SortFunc(out, func(a, b *domain.Payment) int { return strings.Compare(b.ID(), a.ID()) })
	return out[:min(len(out), q.Limit)], nil
}

// Update implements domain.Repository.
func (r *MemoryPaymentRepository) Update(_ context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.payments[id]
	if !ok {
		return nil, domain.ErrPaymentNotFound
	}
	p := copyOf(&m.payment)
	changed, err := change(p)
	if err != nil {
		return nil, err
	}
	if changed {
		m.payment = *copyOf(p)
		r.payments[id] = m
	}
	return p, nil
}

// GrantsPending implements domain.Repository.
func (r *MemoryPaymentRepository) GrantsPending(_ context.Context, cutoff time.Time, limit int) ([]*domain.Payment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Payment
	for _, m := range r.payments {
		if m.grantsPending && m.payment.CreatedAt().Before(cutoff) && len(out) < limit {
			out = append(out, copyOf(&m.payment))
		}
	}
	return out, nil
}

// GrantsDone implements domain.Repository.
func (r *MemoryPaymentRepository) GrantsDone(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.payments[id]
	if !ok {
		return domain.ErrPaymentNotFound
	}
	m.grantsPending = false
	r.payments[id] = m
	return nil
}

func (r *MemoryPaymentRepository) find(match func(*domain.Payment) bool) (*domain.Payment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.payments {
		if match(&m.payment) {
			return copyOf(&m.payment), nil
		}
	}
	return nil, domain.ErrPaymentNotFound
}

// copyOf is a deep copy, so callers never share a stored payment.
func copyOf(p *domain.Payment) *domain.Payment {
	return domain.RestorePayment(p.ID(), p.OrderID(), p.UserID(), p.Amount(), p.Currency(), p.StripeID(), p.ClientSecret(),
		p.Status(), p.CreatedAt(), p.StripeEvents(), p.Review(), p.Version())
}

// MemoryOrderReplica keeps orders in memory, newest version wins.
type MemoryOrderReplica struct {
	mu     sync.Mutex
	orders map[string]domain.Order
}

var _ domain.OrderReplica = (*MemoryOrderReplica)(nil)

// NewMemoryOrderReplica returns an empty replica.
func NewMemoryOrderReplica() *MemoryOrderReplica {
	return &MemoryOrderReplica{orders: map[string]domain.Order{}}
}

// Apply implements domain.OrderReplica.
func (r *MemoryOrderReplica) Apply(_ context.Context, o domain.Order) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.orders[o.ID]; ok && old.Version >= o.Version {
		return false, nil
	}
	r.orders[o.ID] = o
	return true, nil
}

// Get implements domain.OrderReplica.
func (r *MemoryOrderReplica) Get(_ context.Context, id string) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.orders[id]
	if !ok {
		return domain.Order{}, domain.ErrOrderNotFound
	}
	return o, nil
}
