// Package apptest holds fakes of the tickets service's outbound ports for
// the use case and port tests.
package apptest

import (
	"context"
	"sync"

	"github.com/ticketing/ticketing/tickets/app"
)

// Permissions is an in-memory Keto: GrantTicket makes the seller the
// ticket's owner, Admins may edit every ticket, and Err (when set) fails
// every call as an unavailable Keto would.
type Permissions struct {
	mu     sync.Mutex
	owners map[string]string // ticket id → owner
	// Admins are the members of Group:admin.
	Admins map[string]bool
	// Err fails every call when set.
	Err error
	// Grants counts GrantTicket calls that succeeded.
	Grants int
}

var _ app.Permissions = (*Permissions)(nil)

// GrantTicket implements app.Permissions.
func (p *Permissions) GrantTicket(_ context.Context, ticketID, sellerID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	if p.owners == nil {
		p.owners = map[string]string{}
	}
	p.owners[ticketID] = sellerID
	p.Grants++
	return nil
}

// CanEditTicket implements app.Permissions.
func (p *Permissions) CanEditTicket(_ context.Context, ticketID, userID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return false, p.Err
	}
	return p.owners[ticketID] == userID || p.Admins[userID], nil
}

// Owner is the user GrantTicket made the ticket's owner, or "".
func (p *Permissions) Owner(ticketID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.owners[ticketID]
}

// SetErr sets Err safely while other goroutines call the fake.
func (p *Permissions) SetErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Err = err
}
