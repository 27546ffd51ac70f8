package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ticketing/ticketing/auth/domain"
)

// userRecorder stores users as Kratos knows them. Kratos is the source of
// truth: an email held in auth's database by an identity Kratos no longer has
// (deleted by an admin) is released rather than refused, so that recording a
// new user never fails because of a stale record.
type userRecorder struct {
	users      domain.Repository
	identities IdentityProvider
}

func (r userRecorder) record(ctx context.Context, u *domain.User) error {
	err := r.users.Upsert(ctx, u)
	if !errors.Is(err, domain.ErrEmailTaken) {
		return err
	}
	holder, err := r.users.ByEmail(ctx, u.Email())
	switch {
	case errors.Is(err, domain.ErrUserNotFound):
		return r.users.Upsert(ctx, u) // the holder went away meanwhile
	case err != nil:
		return err
	}
	exists, err := r.identities.IdentityExists(ctx, holder.ID())
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("record user %s: %w (held by identity %s)", u.ID(), domain.ErrEmailTaken, holder.ID())
	}
	if err := r.users.Delete(ctx, holder.ID()); err != nil {
		return err
	}
	return r.users.Upsert(ctx, u)
}
