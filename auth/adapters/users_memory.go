package adapters

import (
	"context"
	"fmt"
	"sync"

	"github.com/ticketing/ticketing/auth/domain"
)

// MemoryUserRepository keeps users in memory with the same rules as the
// Mongo repository (the shared repository tests prove it). Use cases and
// ports are tested against it.
type MemoryUserRepository struct {
	mu    sync.Mutex
	users map[string]domain.User
}

var _ domain.Repository = (*MemoryUserRepository)(nil)

// NewMemoryUserRepository returns an empty repository.
func NewMemoryUserRepository() *MemoryUserRepository {
	return &MemoryUserRepository{users: make(map[string]domain.User)}
}

// Upsert implements domain.Repository.
func (r *MemoryUserRepository) Upsert(_ context.Context, u *domain.User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, other := range r.users {
		if id != u.ID() && other.Email() == u.Email() {
			return fmt.Errorf("upsert user %s: %w", u.ID(), domain.ErrEmailTaken)
		}
	}
	r.users[u.ID()] = *u
	return nil
}

// ByID implements domain.Repository.
func (r *MemoryUserRepository) ByID(_ context.Context, id string) (*domain.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	return &u, nil
}

// ByEmail implements domain.Repository.
func (r *MemoryUserRepository) ByEmail(_ context.Context, email string) (*domain.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	email = domain.NormalizeEmail(email)
	for _, u := range r.users {
		if u.Email() == email {
			return &u, nil
		}
	}
	return nil, domain.ErrUserNotFound
}

// Delete implements domain.Repository.
func (r *MemoryUserRepository) Delete(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, id)
	return nil
}
