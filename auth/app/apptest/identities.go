// Package apptest holds a test double of auth's identity provider, shared by
// the use-case and port tests.
package apptest

import (
	"context"
	"sync"
	"time"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/domain"
)

// UserID is the identity id the fake gives every user it registers or signs
// in.
const UserID = "c83b8787-610a-44c0-a9c2-b96ba98e4ad5"

// Identities is an app.IdentityProvider that accepts everyone, unless Err
// is set, and records the sessions it was asked to revoke.
type Identities struct {
	// Err, when set, is returned by every call.
	Err error
	// Kratos are the identities Identity reports, by id.
	Kratos map[string]*domain.User
	// Old are the ids of identities created long before any window
	// DeleteIdentityCreatedWithin is given, which it keeps.
	Old map[string]bool

	mu      sync.Mutex
	revoked []string
	deleted []string
}

var _ app.IdentityProvider = (*Identities)(nil)

// Register implements app.IdentityProvider.
func (f *Identities) Register(_ context.Context, r domain.Registration) (app.SignedIn, error) {
	if f.Err != nil {
		return app.SignedIn{}, f.Err
	}
	u, err := domain.NewUser(UserID, r.Email(), r.Name())
	return app.SignedIn{User: u, Token: "ory_st_registered"}, err
}

// Login implements app.IdentityProvider.
func (f *Identities) Login(_ context.Context, c domain.Credentials) (app.SignedIn, error) {
	if f.Err != nil {
		return app.SignedIn{}, f.Err
	}
	u, err := domain.NewUser(UserID, c.Email(), domain.Name{})
	return app.SignedIn{User: u, Token: "ory_st_signed_in"}, err
}

// RevokeToken implements app.IdentityProvider.
func (f *Identities) RevokeToken(_ context.Context, token string) error {
	return f.revoke("token:" + token)
}

// RevokeSession implements app.IdentityProvider.
func (f *Identities) RevokeSession(_ context.Context, id string) error {
	return f.revoke("session:" + id)
}

func (f *Identities) revoke(what string) error {
	if f.Err != nil {
		return f.Err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, what)
	return nil
}

// Revoked lists what was revoked, as "token:<token>" or "session:<id>".
func (f *Identities) Revoked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revoked...)
}

// Identity implements app.IdentityProvider.
func (f *Identities) Identity(_ context.Context, id string) (*domain.User, error) {
	if f.Err != nil {
		return nil, f.Err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.Kratos[id]
	if !ok {
		return nil, domain.ErrIdentityNotFound
	}
	return u, nil
}

// DeleteIdentityCreatedWithin implements app.IdentityProvider.
func (f *Identities) DeleteIdentityCreatedWithin(_ context.Context, id string, _ time.Duration) (bool, error) {
	if f.Err != nil {
		return false, f.Err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.Kratos[id]; !ok || f.Old[id] {
		return false, nil
	}
	delete(f.Kratos, id)
	f.deleted = append(f.deleted, id)
	return true, nil
}

// Deleted lists the ids of the identities DeleteIdentityCreatedWithin
// deleted.
func (f *Identities) Deleted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}
