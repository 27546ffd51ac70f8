package app

import (
	"context"
	"log/slog"

	"github.com/ticketing/ticketing/auth/domain"
)

// SignUp is the sign-up input as a client sent it.
type SignUp struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	// Address is the client's address, for the attempt limits.
	Address string
}

// SignUpHandler registers a user with Kratos and records them.
type SignUpHandler struct {
	identities IdentityProvider
	recorder   userRecorder
	attempts   *Attempts
	logger     *slog.Logger
}

// NewSignUpHandler returns the sign-up use case, limited by attempts.
func NewSignUpHandler(identities IdentityProvider, users domain.Repository, attempts *Attempts, logger *slog.Logger) SignUpHandler {
	return SignUpHandler{identities: identities, recorder: userRecorder{users: users, identities: identities}, attempts: attempts, logger: logger}
}

// Handle validates the input locally, registers it with Kratos and records
// the new user. The after-registration web hook records the user too (the two
// writes are idempotent), so a failure to record here is logged, not
// returned: the account exists and its session is valid.
func (h SignUpHandler) Handle(ctx context.Context, cmd SignUp) (SignedIn, error) {
	reg, err := domain.NewRegistration(cmd.Email, cmd.Password, domain.Name{First: cmd.FirstName, Last: cmd.LastName})
	if err != nil {
		return SignedIn{}, err
	}
	if err := h.attempts.Admit(ctx, Attempt{Kind: AccountMail, Address: cmd.Address, Identifier: reg.Email()}); err != nil {
		return SignedIn{}, err
	}
	signedIn, err := h.identities.Register(ctx, reg)
	if err != nil {
		return SignedIn{}, err
	}
	if err := h.recorder.record(ctx, signedIn.User); err != nil {
		h.logger.ErrorContext(ctx, "signed-up user not recorded; the web hook is expected to",
			slog.String("user_id", signedIn.User.ID()), slog.String("error", err.Error()))
	}
	return signedIn, nil
}
