// Package app holds auth's use cases, one per file. They speak domain types
// and depend on the narrow interfaces declared here, which the adapters
// implement.
package app

import (
	"context"
	"time"

	"github.com/ticketing/ticketing/auth/domain"
)

// Application is auth's use cases, as the ports call them.
type Application struct {
	SignUp             SignUpHandler
	SignIn             SignInHandler
	SignOut            SignOutHandler
	CurrentUser        CurrentUserHandler
	RecordSignedUpUser RecordSignedUpUserHandler
}

// IdentityProvider is the identity server (Kratos) as the use cases need it.
// Its errors are *apierr.Error values a client can act on (a taken email, a
// rejected password, wrong credentials, the server being unavailable).
type IdentityProvider interface {
	// Register creates an identity and signs it in.
	Register(ctx context.Context, r domain.Registration) (SignedIn, error)
	// Login signs in with a password.
	Login(ctx context.Context, c domain.Credentials) (SignedIn, error)
	// RevokeToken ends the session a token belongs to; an unknown or already
	// ended session is not an error.
	RevokeToken(ctx context.Context, token string) error
	// RevokeSession ends the session with id; an unknown or already ended
	// session is not an error.
	RevokeSession(ctx context.Context, sessionID string) error
	// Identity returns the identity with id as Kratos holds it now, or
	// domain.ErrIdentityNotFound.
	Identity(ctx context.Context, id string) (*domain.User, error)
	// DeleteIdentityCreatedWithin deletes the identity with id if Kratos
	// created it at most window ago, and reports whether it did.
	DeleteIdentityCreatedWithin(ctx context.Context, id string, window time.Duration) (bool, error)
}

// SignedIn is a user and the token of their new session.
type SignedIn struct {
	User  *domain.User
	Token string
}
