package app

import (
	"context"

	"github.com/ticketing/ticketing/auth/domain"
)

// SignIn is the sign-in input as a client sent it.
type SignIn struct {
	Email    string
	Password string
}

// SignInHandler signs a user in with Kratos.
type SignInHandler struct {
	identities IdentityProvider
}

// NewSignInHandler returns the sign-in use case.
func NewSignInHandler(identities IdentityProvider) SignInHandler {
	return SignInHandler{identities: identities}
}

// Handle signs in; wrong credentials fail with code "invalid_credentials",
// never saying which part was wrong.
func (h SignInHandler) Handle(ctx context.Context, cmd SignIn) (SignedIn, error) {
	creds, err := domain.NewCredentials(cmd.Email, cmd.Password)
	if err != nil {
		return SignedIn{}, err
	}
	return h.identities.Login(ctx, creds)
}
