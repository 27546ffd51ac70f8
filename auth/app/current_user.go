package app

import (
	"context"

	"github.com/ticketing/ticketing/auth/domain"
)

// CurrentUser is the identity of the request's session, as whoami gave it.
type CurrentUser struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
}

// CurrentUserHandler answers who the caller is.
type CurrentUserHandler struct{}

// Handle returns the caller as a user. The session's identity comes from
// Kratos whoami at most SESSION_CACHE_TTL ago, fresher than auth's copy, so
// no database read is needed.
func (CurrentUserHandler) Handle(_ context.Context, q CurrentUser) (*domain.User, error) {
	return domain.NewUser(q.ID, q.Email, domain.Name{First: q.FirstName, Last: q.LastName})
}
