package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ticketing/ticketing/auth/domain"
)

// userRecorder stores users as Kratos knows them. Kratos is the source of
// truth, and its identifiers are unique: an email held in auth's database by
// an identity Kratos no longer has (deleted by an admin), or whose email an
// admin changed, is a stale record, brought up to date rather than refused,
// so that recording a new user never fails because of it.
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
	if err := r.release(ctx, holder); err != nil {
		return fmt.Errorf("record user %s: %w", u.ID(), err)
	}
	return r.users.Upsert(ctx, u)
}

// release frees the email holder's record holds, unless Kratos says the
// holder has that email still (a true conflict: ErrEmailTaken).
func (r userRecorder) release(ctx context.Context, holder *domain.User) error {
	current, err := r.identities.Identity(ctx, holder.ID())
	switch {
	case errors.Is(err, domain.ErrIdentityNotFound):
		return r.users.Delete(ctx, holder.ID())
	case err != nil:
		return err
	case current.Email() == holder.Email():
		return fmt.Errorf("%w (held by identity %s)", domain.ErrEmailTaken, holder.ID())
	}
	err = r.users.Upsert(ctx, current)
	if errors.Is(err, domain.ErrEmailTaken) {
		// Its new email is held by a stale record too: drop this one; the
		// next recording of that identity writes it afresh.
		return r.users.Delete(ctx, holder.ID())
	}
	return err
}
