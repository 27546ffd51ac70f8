package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/auth/domain"
)

// RecordSignedUpUser is the identity Kratos' after-registration web hook
// sends.
type RecordSignedUpUser struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
}

// registrationWindow is how old an identity may be for its web hook to be
// part of its registration: Kratos calls the hook right after saving the
// identity, and retries a failing one twice within seconds.
const registrationWindow = time.Minute

// RecordSignedUpUserHandler records users Kratos has registered.
type RecordSignedUpUserHandler struct {
	identities IdentityProvider
	recorder   userRecorder
	logger     *slog.Logger
}

// NewRecordSignedUpUserHandler returns the record-signed-up-user use case.
func NewRecordSignedUpUserHandler(users domain.Repository, identities IdentityProvider, logger *slog.Logger) RecordSignedUpUserHandler {
	return RecordSignedUpUserHandler{identities: identities, recorder: userRecorder{users: users, identities: identities}, logger: logger}
}

// Handle records the identity the hook names as Kratos holds it now (only
// its id is taken from the hook), upserting by identity id: the same hook
// again, or replayed with an older body, records Kratos' current copy; a
// hook for an identity Kratos does not have records nothing
// (ErrIdentityNotFound).
//
// Kratos runs this hook after it saved the identity (and its first session)
// and turns a failure into a failed registration, so a user that cannot be
// recorded (a true email conflict, the database down) would leave an
// identity behind that no one finished registering: it is deleted, if it is
// at most registrationWindow old (else this is a replay for an account in
// use, which is kept).
func (h RecordSignedUpUserHandler) Handle(ctx context.Context, cmd RecordSignedUpUser) error {
	sent, err := domain.NewUser(cmd.ID, cmd.Email, domain.Name{First: cmd.FirstName, Last: cmd.LastName})
	if err != nil {
		return err
	}
	u, err := h.identities.Identity(ctx, sent.ID())
	if err != nil {
		return err
	}
	recordErr := h.recorder.record(ctx, u)
	if recordErr == nil {
		return nil
	}
	deleted, err := h.identities.DeleteIdentityCreatedWithin(ctx, u.ID(), registrationWindow)
	switch {
	case err != nil:
		h.logger.ErrorContext(ctx, "registration failed and its identity could not be removed",
			slog.String("user_id", u.ID()), slog.String("error", err.Error()), slog.String("cause", recordErr.Error()))
	case deleted:
		h.logger.WarnContext(ctx, "registration failed; its identity was removed from Kratos",
			slog.String("user_id", u.ID()), slog.String("cause", recordErr.Error()))
	}
	return recordErr
}
