package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	const alice, moved = "alice@example.com", "moved@example.com"
	tests := []struct {
		name        string
		stored      []*domain.User
		kratos      map[string]string // identity id → its email in Kratos
		old         []string          // identities created long ago
		users       domain.Repository // nil: an empty in-memory repository
		cmd         app.RecordSignedUpUser
		wantStatus  int               // 0: success
		wantRecords map[string]string // identity id → its recorded email ("" none)
		wantDeleted []string          // identities removed from Kratos
	}{
		{
			name:        "new user",
			kratos:      map[string]string{aliceID: alice},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: "Alice@example.com", FirstName: "Alice"},
			wantRecords: map[string]string{aliceID: alice},
		},
		{
			name:        "same user again",
			stored:      []*domain.User{storedUser(aliceID, alice)},
			kratos:      map[string]string{aliceID: alice},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantRecords: map[string]string{aliceID: alice},
		},
		{
			name:        "replayed with an older email: Kratos' copy is recorded",
			stored:      []*domain.User{storedUser(aliceID, moved)},
			kratos:      map[string]string{aliceID: moved},
			old:         []string{aliceID},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantRecords: map[string]string{aliceID: moved},
		},
		{
			name:        "email held by an identity Kratos no longer has",
			stored:      []*domain.User{storedUser(staleID, alice)},
			kratos:      map[string]string{aliceID: alice},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantRecords: map[string]string{aliceID: alice, staleID: ""},
		},
		{
			name:        "email held by an identity whose email an admin changed",
			stored:      []*domain.User{storedUser(staleID, alice)},
			kratos:      map[string]string{aliceID: alice, staleID: moved},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantRecords: map[string]string{aliceID: alice, staleID: moved},
		},
		{
			name:        "email held by a live identity: conflict, the unfinished registration removed",
			stored:      []*domain.User{storedUser(staleID, alice)},
			kratos:      map[string]string{staleID: alice, aliceID: alice},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantStatus:  409,
			wantRecords: map[string]string{staleID: alice, aliceID: ""},
			wantDeleted: []string{aliceID},
		},
		{
			name:        "conflict for an identity created long ago (a replay): kept",
			stored:      []*domain.User{storedUser(staleID, alice)},
			kratos:      map[string]string{staleID: alice, aliceID: alice},
			old:         []string{aliceID},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantStatus:  409,
			wantRecords: map[string]string{staleID: alice},
		},
		{
			name:        "database down: the unfinished registration removed",
			kratos:      map[string]string{aliceID: alice},
			users:       failingRepository{Repository: adapters.NewMemoryUserRepository()},
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantStatus:  503,
			wantDeleted: []string{aliceID},
		},
		{
			name:        "identity Kratos does not have",
			cmd:         app.RecordSignedUpUser{ID: aliceID, Email: alice},
			wantStatus:  404,
			wantRecords: map[string]string{aliceID: ""},
		},
		{
			name:       "zero id (web hook configured with response.parse)",
			cmd:        app.RecordSignedUpUser{ID: "00000000-0000-0000-0000-000000000000", Email: alice},
			wantStatus: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			memory := adapters.NewMemoryUserRepository()
			for _, u := range tt.stored {
				if err := memory.Upsert(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			users := tt.users
			if users == nil {
				users = memory
			}
			identities := &apptest.Identities{Kratos: map[string]*domain.User{}, Old: map[string]bool{}}
			for id, email := range tt.kratos {
				identities.Kratos[id] = storedUser(id, email)
			}
			for _, id := range tt.old {
				identities.Old[id] = true
			}
			h := app.NewRecordSignedUpUserHandler(users, identities, slog.New(slog.DiscardHandler))
			err := h.Handle(ctx, tt.cmd)
			if tt.wantStatus == 0 && err != nil || tt.wantStatus != 0 && apierr.Status(err) != tt.wantStatus {
				t.Fatalf("Handle() = %v, want status %d", err, tt.wantStatus)
			}
			for id, email := range tt.wantRecords {
				got, err := memory.ByID(ctx, id)
				switch {
				case email == "" && !errors.Is(err, domain.ErrUserNotFound):
					t.Errorf("user %s recorded (%v, %v), want none", id, got, err)
				case email != "" && (err != nil || got.Email() != email):
					t.Errorf("user %s = %v (%v), want email %s", id, got, err, email)
				}
			}
			if got := identities.Deleted(); fmt.Sprint(got) != fmt.Sprint(tt.wantDeleted) && len(got)+len(tt.wantDeleted) > 0 {
				t.Errorf("deleted from Kratos %v, want %v", got, tt.wantDeleted)
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
