package app

import (
	"context"
	"errors"

	"github.com/ticketing/ticketing/auth/domain"
)

// SignIn is the sign-in input as a client sent it.
type SignIn struct {
	Email    string
	Password string
	// Address is the client's address, for the attempt limits.
	Address string
}

// SignInHandler signs a user in with Kratos.
type SignInHandler struct {
	identities IdentityProvider
	attempts   *Attempts
}

// NewSignInHandler returns the sign-in use case, limited by attempts.
func NewSignInHandler(identities IdentityProvider, attempts *Attempts) SignInHandler {
	return SignInHandler{identities: identities, attempts: attempts}
}

// Handle signs in; wrong credentials fail with code "invalid_credentials",
// never saying which part was wrong, and back the account off at the
// client's address (429 rate_limited while it waits).
func (h SignInHandler) Handle(ctx context.Context, cmd SignIn) (SignedIn, error) {
	creds, err := domain.NewCredentials(cmd.Email, cmd.Password)
	if err != nil {
		return SignedIn{}, err
	}
	at := Attempt{Kind: PasswordCheck, Address: cmd.Address, Identifier: creds.Email()}
	if err := h.attempts.Admit(ctx, at); err != nil {
		return SignedIn{}, err
	}
	signedIn, err := h.identities.Login(ctx, creds)
	switch {
	case err == nil:
		h.attempts.Record(ctx, at, Succeeded)
	case errors.Is(err, domain.ErrInvalidCredentials):
		h.attempts.Record(ctx, at, Failed)
	}
	return signedIn, err
}
