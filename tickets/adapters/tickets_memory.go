package adapters

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

// MemoryTicketRepository keeps tickets in memory with the same rules as the
// Mongo repository (the shared repository tests prove it). Use cases and
// ports are tested against it. It keeps no events.
type MemoryTicketRepository struct {
	mu      sync.Mutex
	tickets map[string]memoryTicket
}

type memoryTicket struct {
	snapshot      domain.Snapshot
	grantsPending bool
}

var _ app.Tickets = (*MemoryTicketRepository)(nil)

// NewMemoryTicketRepository returns an empty repository.
func NewMemoryTicketRepository() *MemoryTicketRepository {
	return &MemoryTicketRepository{tickets: make(map[string]memoryTicket)}
}

// Add implements app.Tickets.
func (r *MemoryTicketRepository) Add(_ context.Context, t *domain.Ticket) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.tickets[t.ID()]; taken {
		return apierr.Internal(errors.New("add ticket: id " + t.ID() + " is taken"))
	}
	r.tickets[t.ID()] = memoryTicket{snapshot: t.Snapshot(), grantsPending: true}
	return nil
}

// Get implements app.Tickets.
func (r *MemoryTicketRepository) Get(_ context.Context, id string) (*domain.Ticket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.tickets[id]
	if !ok {
		return nil, domain.ErrTicketNotFound
	}
	return domain.Restore(m.snapshot)
}

// Update implements app.Tickets.
func (r *MemoryTicketRepository) Update(_ context.Context, id string, fn func(*domain.Ticket) error) (*domain.Ticket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.tickets[id]
	if !ok {
		return nil, domain.ErrTicketNotFound
	}
	t, err := domain.Restore(m.snapshot)
	if err != nil {
		return nil, err
	}
	if err := fn(t); errors.Is(err, domain.ErrNoChange) {
		return domain.Restore(m.snapshot)
	} else if err != nil {
		return nil, err
	}
	m.snapshot = t.Snapshot()
	r.tickets[id] = m
	return t, nil
}

// MarkGranted implements app.Tickets.
func (r *MemoryTicketRepository) MarkGranted(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.tickets[id]
	if !ok {
		return domain.ErrTicketNotFound
	}
	m.grantsPending = false
	r.tickets[id] = m
	return nil
}

// PendingGrants implements app.Tickets.
func (r *MemoryTicketRepository) PendingGrants(_ context.Context, listedBefore time.Time, limit int) ([]*domain.Ticket, error) {
	return r.selectTickets(limit, false, func(m memoryTicket) bool {
		return m.grantsPending && m.snapshot.CreatedAt.Before(listedBefore)
	})
}

// List implements app.Tickets.
func (r *MemoryTicketRepository) List(_ context.Context, f app.TicketFilter) ([]*domain.Ticket, error) {
	return r.selectTickets(f.Limit, true, func(m memoryTicket) bool {
		s := m.snapshot
		switch {
		case f.SellerID != "" && s.SellerID != f.SellerID:
			return false
		case f.SellerID == "" && s.Status != domain.StatusAvailable:
			return false
		case f.After != "" && s.ID >= f.After:
			return false
		}
		return strings.Contains(domain.SearchKey(s.Title), string(f.Title))
	})
}

// selectTickets returns up to limit matching tickets ordered by id.
func (r *MemoryTicketRepository) selectTickets(limit int, newestFirst bool, match func(memoryTicket) bool) ([]*domain.Ticket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var snaps []domain.Snapshot
	for _, m := range r.tickets {
		if match(m) {
			snaps = append(snaps, m.snapshot)
		}
	}
	slices.SortFunc(snaps, func(a, b domain.Snapshot) int {
		if newestFirst {
			return strings.Compare(b.ID, a.ID)
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]*domain.Ticket, 0, min(limit, len(snaps)))
	for _, s := range snaps[:min(limit, len(snaps))] {
		t, err := domain.Restore(s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// GrantsPending reports whether the ticket's grants are still pending, for
// tests.
func (r *MemoryTicketRepository) GrantsPending(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tickets[id].grantsPending
}
