// Package domain holds auth's model: users, identified by their Kratos
// identity id, and the rules their sign-up input must meet.
package domain

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// User is a registered user as auth keeps it: the Kratos identity id (the
// user's id in every service), the normalised email and an optional name.
type User struct {
	id    string
	email string
	name  Name
}

// Name is a user's optional name; either part may be empty.
type Name struct {
	First string
	Last  string
}

// IsZero reports whether no name was given.
func (n Name) IsZero() bool {
	return n.First == "" && n.Last == ""
}

func (n Name) trimmed() Name {
	return Name{First: strings.TrimSpace(n.First), Last: strings.TrimSpace(n.Last)}
}

// NewUser returns the user with Kratos identity id. It accepts what Kratos
// accepts for an identity (a UUID id, an email of the schema's format): auth
// mirrors Kratos, it does not second-guess it.
func NewUser(id, email string, name Name) (*User, error) {
	var problems []apierr.FieldError
	if parsed, err := uuid.Parse(id); err != nil || parsed == uuid.Nil || parsed.String() != strings.ToLower(id) {
		problems = append(problems, apierr.Field("id", "must be a non-zero UUID"))
	}
	email = NormalizeEmail(email)
	if msg := emailProblem(email); msg != "" {
		problems = append(problems, apierr.Field("email", msg))
	}
	if len(problems) > 0 {
		return nil, apierr.Validation(problems...)
	}
	return &User{id: strings.ToLower(id), email: email, name: name.trimmed()}, nil
}

// ID is the user's Kratos identity id.
func (u *User) ID() string { return u.id }

// Email is the user's normalised email.
func (u *User) Email() string { return u.email }

// Name is the user's name; zero when none was given.
func (u *User) Name() Name { return u.name }

// Repository stores users. Implementations enforce one user per email with a
// unique key, never with a read before the write.
type Repository interface {
	// Upsert stores u under its id, creating or replacing the record; storing
	// the same user again changes nothing. It fails with ErrEmailTaken when
	// another id holds u's email.
	Upsert(ctx context.Context, u *User) error
	// ByID returns the user with id, or ErrUserNotFound.
	ByID(ctx context.Context, id string) (*User, error)
	// ByEmail returns the user with the normalised email, or ErrUserNotFound.
	ByEmail(ctx context.Context, email string) (*User, error)
	// Delete removes the user with id; a missing user is not an error.
	Delete(ctx context.Context, id string) error
}

// ErrEmailTaken: another user has this email.
var ErrEmailTaken = apierr.Conflict("email_taken", "an account with this email already exists",
	apierr.Field("email", "is already taken"))

// ErrIdentityNotFound: Kratos has no identity with this id.
var ErrIdentityNotFound = apierr.NotFound("identity_not_found", "no identity with this id")

// ErrUserNotFound: no user has this id or email.
var ErrUserNotFound = apierr.NotFound("user_not_found", "no such user")
