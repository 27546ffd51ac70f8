package adapters

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/ticketing/orders/domain"
)

// MemoryOrderRepository keeps orders in memory, for tests of the use cases
// and the HTTP port. The repository tests hold it to the Mongo one's
// contract; it records no events.
type MemoryOrderRepository struct {
	mu      sync.Mutex
	orders  map[string]*domain.Order
	pending map[string]bool
	active  map[string]string // ticket id → order id
	holds   map[string]string // hold key → order id
}

var _ domain.Repository = (*MemoryOrderRepository)(nil)

// NewMemoryOrderRepository returns an empty repository.
func NewMemoryOrderRepository() *MemoryOrderRepository {
	return &MemoryOrderRepository{
		orders: map[string]*domain.Order{}, pending: map[string]bool{}, active: map[string]string{}, holds: map[string]string{},
	}
}

// NextID implements domain.Repository.
func (r *MemoryOrderRepository) NextID() string { return primitive.NewObjectID().Hex() }

// Add implements domain.Repository.
func (r *MemoryOrderRepository) Add(_ context.Context, o *domain.Order, maxHolds int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := o.ActiveTicketID()
	if _, held := r.active[t]; held {
		return domain.ErrTicketUnavailable
	}
	slot := 0
	for ; slot < maxHolds; slot++ {
		o.UseHoldSlot(slot)
		if _, taken := r.holds[o.HoldKey()]; !taken {
			break
		}
	}
	if slot == maxHolds {
		return domain.ErrTooManyHolds
	}
	r.active[t], r.holds[o.HoldKey()] = o.ID(), o.ID()
	r.orders[o.ID()] = clone(o)
	r.pending[o.ID()] = true
	return nil
}

// Get implements domain.Repository.
func (r *MemoryOrderRepository) Get(_ context.Context, id string) (*domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.orders[id]
	if !ok {
		return nil, domain.ErrOrderNotFound
	}
	return clone(o), nil
}

// Update implements domain.Repository.
func (r *MemoryOrderRepository) Update(_ context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, ok := r.orders[id]
	if !ok {
		return nil, domain.ErrOrderNotFound
	}
	o := clone(stored)
	changed, err := change(o)
	if err != nil {
		return nil, err
	}
	if !changed {
		return clone(stored), nil
	}
	if stored.ActiveTicketID() != "" && o.ActiveTicketID() == "" {
		delete(r.active, stored.ActiveTicketID())
	}
	if stored.HoldKey() != "" && o.HoldKey() == "" {
		delete(r.holds, stored.HoldKey())
	}
	r.orders[id] = clone(o)
	return o, nil
}

// List implements domain.Repository.
func (r *MemoryOrderRepository) List(_ context.Context, q domain.ListQuery) ([]*domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Order
	for _, o := range r.orders {
		who := o.BuyerID()
		if q.Role == domain.RoleSeller {
			who = o.Ticket().SellerID
		}
		if who == q.UserID && (q.After == "" || o.ID() < q.After) {
			out = append(out, clone(o))
		}
	}
	slices.SortFunc(out, func(a, b *domain.Order) int { return strings.Compare(b.ID(), a.ID()) })
	return out[:min(len(out), q.Limit)], nil
}

// GrantsDone implements domain.Repository.
func (r *MemoryOrderRepository) GrantsDone(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.orders[id]; !ok {
		return domain.ErrOrderNotFound
	}
	delete(r.pending, id)
	return nil
}

// GrantsPending implements domain.Repository.
func (r *MemoryOrderRepository) GrantsPending(_ context.Context, cutoff time.Time, limit int) ([]*domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Order
	for id := range r.pending {
		if o := r.orders[id]; o.CreatedAt().Before(cutoff) && len(out) < limit {
			out = append(out, clone(o))
		}
	}
	return out, nil
}

// OverdueHolds implements domain.Repository.
func (r *MemoryOrderRepository) OverdueHolds(_ context.Context, cutoff time.Time, limit int) ([]*domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Order
	for _, o := range r.orders {
		if o.Status() == domain.StatusCreated && o.ExpiresAt().Before(cutoff) && len(out) < limit {
			out = append(out, clone(o))
		}
	}
	return out, nil
}

func clone(o *domain.Order) *domain.Order {
	return domain.RestoreOrder(o.State())
}

// MemoryTicketReplica keeps tickets in memory, for tests.
type MemoryTicketReplica struct {
	mu      sync.Mutex
	tickets map[string]domain.Ticket
}

var _ domain.TicketReplica = (*MemoryTicketReplica)(nil)

// NewMemoryTicketReplica returns an empty replica.
func NewMemoryTicketReplica() *MemoryTicketReplica {
	return &MemoryTicketReplica{tickets: map[string]domain.Ticket{}}
}

// Apply implements domain.TicketReplica.
func (r *MemoryTicketReplica) Apply(_ context.Context, t domain.Ticket) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.tickets[t.ID]; ok && old.Version >= t.Version {
		return false, nil
	}
	r.tickets[t.ID] = t
	return true, nil
}

// Get implements domain.TicketReplica.
func (r *MemoryTicketReplica) Get(_ context.Context, id string) (domain.Ticket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tickets[id]
	if !ok {
		return domain.Ticket{}, domain.ErrTicketNotFound
	}
	return t, nil
}
