package app

import (
	"context"
	"errors"
)

// SignOut names the session to end: by its token (API clients), else by its
// id (browser sessions, whose cookie cannot be sent to Kratos' API logout).
type SignOut struct {
	Token     string
	SessionID string
}

// SignOutHandler ends sessions in Kratos.
type SignOutHandler struct {
	identities IdentityProvider
}

// NewSignOutHandler returns the sign-out use case.
func NewSignOutHandler(identities IdentityProvider) SignOutHandler {
	return SignOutHandler{identities: identities}
}

// Handle ends the session; ending an already ended one succeeds.
func (h SignOutHandler) Handle(ctx context.Context, cmd SignOut) error {
	switch {
	case cmd.Token != "":
		return h.identities.RevokeToken(ctx, cmd.Token)
	case cmd.SessionID != "":
		return h.identities.RevokeSession(ctx, cmd.SessionID)
	default:
		return errors.New("sign out: neither a token nor a session id")
	}
}
