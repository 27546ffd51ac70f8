package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/app/apptest"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

const (
	aliceID = apptest.UserID
	staleID = "0b7a9c3e-1d2f-4a5b-8c6d-7e8f9a0b1c2d"
)

// failingRepository fails every write, like a database that is down.
type failingRepository struct{ domain.Repository }

func (failingRepository) Upsert(context.Context, *domain.User) error {
	return apierr.Unavailable("the database", errors.New("connection refused"))
}

func TestRecordSignedUpUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stored     []*domain.User
		kratosHas  map[string]bool
		cmd        app.RecordSignedUpUser
		wantStatus int // 0: success
		wantHolder string
	}{
		{
			name:       "new user",
			cmd:        app.RecordSignedUpUser{ID: aliceID, Email: "Alice@example.com", FirstName: "Alice"},
			wantHolder: aliceID,
		},
		{
			name:       "same user again",
			stored:     []*domain.User{storedUser(aliceID, "alice@example.com")},
			cmd:        app.RecordSignedUpUser{ID: aliceID, Email: "alice@example.com"},
			wantHolder: aliceID,
		},
		{
			name:       "email held by an identity Kratos no longer has",
			stored:     []*domain.User{storedUser(staleID, "alice@example.com")},
			kratosHas:  map[string]bool{aliceID: true},
			cmd:        app.RecordSignedUpUser{ID: aliceID, Email: "alice@example.com"},
			wantHolder: aliceID,
		},
		{
			name:       "email held by a live identity",
			stored:     []*domain.User{storedUser(staleID, "alice@example.com")},
			kratosHas:  map[string]bool{staleID: true, aliceID: true},
			cmd:        app.RecordSignedUpUser{ID: aliceID, Email: "alice@example.com"},
			wantStatus: 409,
			wantHolder: staleID,
		},
		{
			name:       "zero id (web hook configured with response.parse)",
			cmd:        app.RecordSignedUpUser{ID: "00000000-0000-0000-0000-000000000000", Email: "alice@example.com"},
			wantStatus: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			users := adapters.NewMemoryUserRepository()
			for _, u := range tt.stored {
				if err := users.Upsert(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			h := app.NewRecordSignedUpUserHandler(users, &apptest.Identities{Existing: tt.kratosHas})
			err := h.Handle(ctx, tt.cmd)
			if tt.wantStatus == 0 && err != nil || tt.wantStatus != 0 && apierr.Status(err) != tt.wantStatus {
				t.Fatalf("Handle() = %v, want status %d", err, tt.wantStatus)
			}
			if tt.wantHolder == "" {
				return
			}
			holder, err := users.ByEmail(ctx, "alice@example.com")
			if err != nil || holder.ID() != tt.wantHolder {
				t.Errorf("email held by %v (%v), want %s", holder, err, tt.wantHolder)
			}
		})
	}
}

// storedUser is a valid user for table rows; it panics on a bad row.
func storedUser(id, email string) *domain.User {
	u, err := domain.NewUser(id, email, domain.Name{})
	if err != nil {
		panic(err)
	}
	return u
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cmd        app.SignUp
		kratosErr  error
		users      func() domain.Repository
		wantStatus int // 0: success
		wantLogged string
	}{
		{
			name:  "registers and records",
			cmd:   app.SignUp{Email: " Alice@Example.com", Password: "correct horse", FirstName: "Alice"},
			users: func() domain.Repository { return adapters.NewMemoryUserRepository() },
		},
		{
			name:       "invalid input never reaches Kratos",
			cmd:        app.SignUp{Email: "nope", Password: "short"},
			kratosErr:  errors.New("must not be called"),
			users:      func() domain.Repository { return adapters.NewMemoryUserRepository() },
			wantStatus: 400,
		},
		{
			name:       "kratos refusal is returned",
			cmd:        app.SignUp{Email: "alice@example.com", Password: "correct horse"},
			kratosErr:  domain.ErrEmailTaken,
			users:      func() domain.Repository { return adapters.NewMemoryUserRepository() },
			wantStatus: 409,
		},
		{
			name:       "database down after Kratos registered: signed up, logged",
			cmd:        app.SignUp{Email: "alice@example.com", Password: "correct horse"},
			users:      func() domain.Repository { return failingRepository{} },
			wantLogged: "signed-up user not recorded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			users := tt.users()
			h := app.NewSignUpHandler(&apptest.Identities{Err: tt.kratosErr}, users, apptest.Unlimited(), slog.New(slog.NewJSONHandler(&logs, nil)))
			got, err := h.Handle(context.Background(), tt.cmd)
			if tt.wantStatus != 0 {
				if apierr.Status(err) != tt.wantStatus {
					t.Fatalf("Handle() = %v, want %d", err, tt.wantStatus)
				}
				return
			}
			if err != nil || got.Token != "ory_st_registered" || got.User.Email() != "alice@example.com" {
				t.Fatalf("Handle() = %+v, %v", got, err)
			}
			if !strings.Contains(logs.String(), tt.wantLogged) {
				t.Errorf("logs %q lack %q", logs.String(), tt.wantLogged)
			}
			if tt.wantLogged == "" {
				if stored, err := users.ByID(context.Background(), aliceID); err != nil || stored.Name().First != "Alice" {
					t.Errorf("stored %+v, %v", stored, err)
				}
			}
		})
	}
}

func TestSignIn_RequiresBothFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cmd        app.SignIn
		wantStatus int
	}{
		{"both present", app.SignIn{Email: "alice@example.com", Password: "whatever"}, 0},
		{"email missing", app.SignIn{Password: "whatever"}, 400},
		{"password missing", app.SignIn{Email: "alice@example.com"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := app.NewSignInHandler(&apptest.Identities{}, apptest.Unlimited()).Handle(context.Background(), tt.cmd)
			if tt.wantStatus == 0 && err != nil || tt.wantStatus != 0 && apierr.Status(err) != tt.wantStatus {
				t.Errorf("Handle() = %v, want status %d", err, tt.wantStatus)
			}
		})
	}
}

func TestSignOut_RevokesTokenElseSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cmd         app.SignOut
		wantRevoked string
		wantErr     bool
	}{
		{"token session", app.SignOut{Token: "ory_st_abc", SessionID: "s1"}, "token:ory_st_abc", false},
		{"cookie session", app.SignOut{SessionID: "s1"}, "session:s1", false},
		{"nothing to revoke", app.SignOut{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			identities := &apptest.Identities{}
			err := app.NewSignOutHandler(identities).Handle(context.Background(), tt.cmd)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle() = %v", err)
			}
			if got := strings.Join(identities.Revoked(), ","); got != tt.wantRevoked {
				t.Errorf("revoked %q, want %q", got, tt.wantRevoked)
			}
		})
	}
}

func TestCurrentUser(t *testing.T) {
	t.Parallel()
	u, err := app.CurrentUserHandler{}.Handle(context.Background(),
		app.CurrentUser{ID: aliceID, Email: "alice@example.com", FirstName: "Alice", LastName: "Doe"})
	if err != nil || u.ID() != aliceID || u.Name() != (domain.Name{First: "Alice", Last: "Doe"}) {
		t.Errorf("Handle() = %+v, %v", u, err)
	}
}
