// Package apptest holds fakes of the orders use cases' dependencies, for
// the tests of the use cases and the HTTP port.
package apptest

import (
	"context"
	"sync"

	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// Permissions is the policy of ory/keto/namespaces.keto.ts over in-memory
// tuples: a ticket's seller may not order it; an order may be viewed by its
// buyer, its ticket's seller and admins, and edited by its buyer.
type Permissions struct {
	mu            sync.Mutex
	ticketSellers map[string]string
	orderBuyers   map[string]string
	orderTickets  map[string]string
	admins        map[string]bool
	// Down makes every call fail as Keto being unavailable does.
	Down bool
	// GrantsFail makes only GrantOrder fail so.
	GrantsFail bool
}

var _ app.Permissions = (*Permissions)(nil)

// NewPermissions returns a policy without tuples.
func NewPermissions() *Permissions {
	return &Permissions{ticketSellers: map[string]string{}, orderBuyers: map[string]string{}, orderTickets: map[string]string{}, admins: map[string]bool{}}
}

var errDown = apierr.Unavailable("Keto", nil)

// AddTicket records the seller of a ticket (the tickets service's tuple).
func (p *Permissions) AddTicket(ticketID, sellerID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ticketSellers[ticketID] = sellerID
}

// AddAdmin makes userID a member of Group:admin.
func (p *Permissions) AddAdmin(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.admins[userID] = true
}

// CanOrderTicket implements app.Permissions.
func (p *Permissions) CanOrderTicket(_ context.Context, userID, ticketID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ticketSellers[ticketID] != userID, p.err()
}

// CanViewOrder implements app.Permissions.
func (p *Permissions) CanViewOrder(_ context.Context, userID, orderID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	buyer, ok := p.orderBuyers[orderID]
	seller := p.ticketSellers[p.orderTickets[orderID]]
	return ok && (buyer == userID || seller == userID || p.admins[userID]), p.err()
}

// CanEditOrder implements app.Permissions.
func (p *Permissions) CanEditOrder(_ context.Context, userID, orderID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	buyer, ok := p.orderBuyers[orderID]
	return ok && buyer == userID, p.err()
}

// GrantOrder implements app.Permissions.
func (p *Permissions) GrantOrder(_ context.Context, o *domain.Order) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.err(); err != nil {
		return err
	}
	if p.GrantsFail {
		return errDown
	}
	p.orderBuyers[o.ID()] = o.BuyerID()
	p.orderTickets[o.ID()] = o.Ticket().ID
	return nil
}

func (p *Permissions) err() error {
	if p.Down {
		return errDown
	}
	return nil
}
