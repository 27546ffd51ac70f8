package app

import (
	"context"

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

// RecordSignedUpUserHandler records users Kratos has registered.
type RecordSignedUpUserHandler struct {
	recorder userRecorder
}

// NewRecordSignedUpUserHandler returns the record-signed-up-user use case.
func NewRecordSignedUpUserHandler(users domain.Repository, identities IdentityProvider) RecordSignedUpUserHandler {
	return RecordSignedUpUserHandler{recorder: userRecorder{users: users, identities: identities}}
}

// Handle upserts the user by identity id: recording the same user again (the
// sign-up handler does too, and Kratos may retry) succeeds and changes
// nothing.
func (h RecordSignedUpUserHandler) Handle(ctx context.Context, cmd RecordSignedUpUser) error {
	u, err := domain.NewUser(cmd.ID, cmd.Email, domain.Name{First: cmd.FirstName, Last: cmd.LastName})
	if err != nil {
		return err
	}
	return h.recorder.record(ctx, u)
}
