package ports_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/app/apptest"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/auth/ports"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
)

const webhookKey = "0123456789abcdef-webhook"

// fakeSessions authenticates requests carrying X-Test-Session ("token:<t>"
// or "cookie:<c>") as apptest.UserID, and records Forget calls.
type fakeSessions struct {
	mu        sync.Mutex
	forgotten []session.Credential
	name      *session.Name
}

func (f *fakeSessions) Require() gin.HandlerFunc {
	return func(c *gin.Context) {
		kind, value, ok := strings.Cut(c.GetHeader("X-Test-Session"), ":")
		if !ok {
			httpserver.WriteError(c, apierr.Unauthenticated("no session"))
			return
		}
		cred := session.Credential{Token: value}
		if kind == "cookie" {
			cred = session.Credential{Cookie: value}
		}
		s := session.Session{
			ID:         "s1",
			Identity:   session.Identity{ID: apptest.UserID, Email: "alice@example.com", Name: f.name},
			Credential: cred,
		}
		c.Request = c.Request.WithContext(session.NewContext(c.Request.Context(), s))
		c.Next()
	}
}

func (f *fakeSessions) Forget(c session.Credential) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, c)
}

type server struct {
	handler    http.Handler
	users      *adapters.MemoryUserRepository
	identities *apptest.Identities
	sessions   *fakeSessions
}

func newServer(t *testing.T, identities *apptest.Identities) server {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	users := adapters.NewMemoryUserRepository()
	sessions := &fakeSessions{}
	application := app.Application{
		SignUp:             app.NewSignUpHandler(identities, users, apptest.Unlimited(), logger),
		SignIn:             app.NewSignInHandler(identities, apptest.Unlimited()),
		SignOut:            app.NewSignOutHandler(identities),
		CurrentUser:        app.CurrentUserHandler{},
		RecordSignedUpUser: app.NewRecordSignedUpUserHandler(users, identities, logger),
	}
	engine := httpserver.New(logger)
	ports.NewHTTPServer(application, sessions, webhookKey).Register(engine)
	return server{handler: engine, users: users, identities: identities, sessions: sessions}
}

type call struct {
	method, path, body string
	headers            map[string]string
}

func (s server) do(c call) *httptest.ResponseRecorder {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) (string, []apierr.FieldError) {
	t.Helper()
	var body apierr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not the error shape: %s", rec.Body)
	}
	return body.Error.Code, body.Error.Fields
}

func TestSignUpAndSignIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		kratosErr  error
		call       call
		wantStatus int
		wantBody   string // for successes
		wantCode   string // for failures
		wantFields []string
	}{
		{
			name:       "sign up",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":" Alice@Example.com","password":"correct horse","name":{"first":"Alice","last":"Doe"}}`},
			wantStatus: 201,
			wantBody:   `{"user":{"id":"` + apptest.UserID + `","email":"alice@example.com"},"token":"ory_st_registered"}`,
		},
		{
			name:       "sign up without name",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"alice@example.com","password":"correct horse"}`},
			wantStatus: 201,
			wantBody:   `{"user":{"id":"` + apptest.UserID + `","email":"alice@example.com"},"token":"ory_st_registered"}`,
		},
		{
			name:       "sign up with invalid fields",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"nope","password":"short","name":{"first":"` + strings.Repeat("x", 65) + `"}}`},
			wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"email", "password", "name.first"},
		},
		{
			name:       "sign up with missing fields",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{}`},
			wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"email", "password"},
		},
		{
			name:       "sign up with unknown field",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"a@example.com","password":"12345678","admin":true}`},
			wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"admin"},
		},
		{
			name:       "sign up with wrong type",
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"a@example.com","password":12345678}`},
			wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"password"},
		},
		{
			name: "sign up without JSON content type",
			call: call{method: "POST", path: "/api/users/sign-up", body: `{"email":"a@example.com"}`,
				headers: map[string]string{"Content-Type": "text/plain"}},
			wantStatus: 415, wantCode: "unsupported_media_type",
		},
		{
			name:       "sign up with a taken email",
			kratosErr:  domain.ErrEmailTaken,
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"alice@example.com","password":"correct horse"}`},
			wantStatus: 409, wantCode: "email_taken", wantFields: []string{"email"},
		},
		{
			name:       "sign up with Kratos down",
			kratosErr:  apierr.Unavailable("Kratos", errors.New("refused")),
			call:       call{method: "POST", path: "/api/users/sign-up", body: `{"email":"alice@example.com","password":"correct horse"}`},
			wantStatus: 503, wantCode: "dependency_unavailable",
		},
		{
			name:       "sign in",
			call:       call{method: "POST", path: "/api/users/sign-in", body: `{"email":"alice@example.com","password":"correct horse"}`},
			wantStatus: 200,
			wantBody:   `{"user":{"id":"` + apptest.UserID + `","email":"alice@example.com"},"token":"ory_st_signed_in"}`,
		},
		{
			name:       "sign in with wrong credentials",
			kratosErr:  apierr.Invalid("invalid_credentials", "the email or password is incorrect"),
			call:       call{method: "POST", path: "/api/users/sign-in", body: `{"email":"alice@example.com","password":"wrong"}`},
			wantStatus: 400, wantCode: "invalid_credentials", wantFields: []string{},
		},
		{
			name:       "sign in with empty body",
			call:       call{method: "POST", path: "/api/users/sign-in"},
			wantStatus: 400, wantCode: "empty_body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &apptest.Identities{Err: tt.kratosErr})
			rec := s.do(tt.call)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantBody != "" {
				if rec.Body.String() != tt.wantBody {
					t.Errorf("body %s\nwant %s", rec.Body, tt.wantBody)
				}
				return
			}
			code, fields := errorCode(t, rec)
			if code != tt.wantCode {
				t.Errorf("code %q, want %q", code, tt.wantCode)
			}
			if tt.wantFields == nil {
				return
			}
			var names []string
			for _, f := range fields {
				names = append(names, f.Field)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields %v, want %v", names, tt.wantFields)
			}
		})
	}
}

func TestSignUp_RecordsTheUser(t *testing.T) {
	t.Parallel()
	s := newServer(t, &apptest.Identities{})
	s.do(call{method: "POST", path: "/api/users/sign-up", body: `{"email":"alice@example.com","password":"correct horse","name":{"first":"Alice"}}`})
	u, err := s.users.ByID(context.Background(), apptest.UserID)
	if err != nil || u.Email() != "alice@example.com" || u.Name().First != "Alice" {
		t.Errorf("stored %+v, %v", u, err)
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		kratosErr     error
		session       string
		wantStatus    int
		wantRevoked   string
		wantForgotten bool
		wantCleared   bool
	}{
		{name: "token session", session: "token:ory_st_abc", wantStatus: 204, wantRevoked: "token:ory_st_abc", wantForgotten: true},
		{name: "cookie session", session: "cookie:c1", wantStatus: 204, wantRevoked: "session:s1", wantForgotten: true, wantCleared: true},
		{name: "no session", wantStatus: 401},
		{name: "Kratos down", kratosErr: apierr.Unavailable("Kratos", errors.New("refused")), session: "token:t", wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &apptest.Identities{Err: tt.kratosErr})
			headers := map[string]string{}
			if tt.session != "" {
				headers["X-Test-Session"] = tt.session
			}
			rec := s.do(call{method: "POST", path: "/api/users/sign-out", headers: headers})
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := strings.Join(s.identities.Revoked(), ","); got != tt.wantRevoked {
				t.Errorf("revoked %q, want %q", got, tt.wantRevoked)
			}
			if got := len(s.sessions.forgotten) == 1; got != tt.wantForgotten {
				t.Errorf("forgotten %v, want %v", s.sessions.forgotten, tt.wantForgotten)
			}
			cleared := strings.Contains(rec.Header().Get("Set-Cookie"), session.CookieName+"=;")
			if cleared != tt.wantCleared {
				t.Errorf("Set-Cookie %q", rec.Header().Get("Set-Cookie"))
			}
		})
	}
}

func TestCurrentUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		userName   *session.Name
		session    string
		wantStatus int
		wantBody   string
	}{
		{"with name", &session.Name{First: "Alice", Last: "Doe"}, "token:t", 200,
			`{"id":"` + apptest.UserID + `","email":"alice@example.com","name":{"first":"Alice","last":"Doe"}}`},
		{"without name", nil, "token:t", 200, `{"id":"` + apptest.UserID + `","email":"alice@example.com"}`},
		{"no session", nil, "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &apptest.Identities{})
			s.sessions.name = tt.userName
			headers := map[string]string{}
			if tt.session != "" {
				headers["X-Test-Session"] = tt.session
			}
			rec := s.do(call{method: "GET", path: "/api/users/current-user", headers: headers})
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body %s\nwant %s", rec.Body, tt.wantBody)
			}
		})
	}
}

func TestOnSignUp(t *testing.T) {
	t.Parallel()
	identity := `{"identity":{"id":"` + apptest.UserID + `","schema_id":"default","state":"active","traits":{"email":"Alice@example.com","name":{"first":"Alice","last":"Doe"}},"metadata_public":null,"created_at":"2026-11-22T00:10:57Z"}}`
	tests := []struct {
		name       string
		key        string
		body       string
		repeat     int
		unknown    bool // Kratos has no such identity
		wantStatus int
		wantCode   string
		wantStored bool
	}{
		{name: "records the user", key: webhookKey, body: identity, repeat: 1, wantStatus: 200, wantStored: true},
		{name: "recording again succeeds", key: webhookKey, body: identity, repeat: 3, wantStatus: 200, wantStored: true},
		{name: "extra fields are ignored", key: webhookKey, repeat: 1, wantStatus: 200, wantStored: true,
			body: `{"flow":{"id":"f"},"identity":{"id":"` + apptest.UserID + `","traits":{"email":"alice@example.com","extra":1}}}`},
		{name: "missing key", body: identity, repeat: 1, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "wrong key", key: webhookKey + "x", body: identity, repeat: 1, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "missing identity", key: webhookKey, body: `{}`, repeat: 1, wantStatus: 400, wantCode: "validation_failed"},
		{name: "zero identity id", key: webhookKey, repeat: 1, wantStatus: 400, wantCode: "validation_failed",
			body: `{"identity":{"id":"00000000-0000-0000-0000-000000000000","traits":{"email":"alice@example.com"}}}`},
		{name: "malformed body", key: webhookKey, body: `{"identity":`, repeat: 1, wantStatus: 400, wantCode: "malformed_json"},
		{name: "identity Kratos does not have", key: webhookKey, body: identity, repeat: 1, unknown: true, wantStatus: 404, wantCode: "identity_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			identities := &apptest.Identities{Kratos: map[string]*domain.User{}}
			if !tt.unknown {
				alice, err := domain.NewUser(apptest.UserID, "alice@example.com", domain.Name{First: "Alice", Last: "Doe"})
				if err != nil {
					t.Fatal(err)
				}
				identities.Kratos[apptest.UserID] = alice
			}
			s := newServer(t, identities)
			headers := map[string]string{}
			if tt.key != "" {
				headers[ports.WebhookKeyHeader] = tt.key
			}
			var rec *httptest.ResponseRecorder
			for range tt.repeat {
				rec = s.do(call{method: "POST", path: "/api/users/on-sign-up", body: tt.body, headers: headers})
				if rec.Code != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
				}
			}
			if tt.wantCode != "" {
				if code, _ := errorCode(t, rec); code != tt.wantCode {
					t.Errorf("code %q, want %q", code, tt.wantCode)
				}
			}
			u, err := s.users.ByID(context.Background(), apptest.UserID)
			if stored := err == nil && u.Email() == "alice@example.com"; stored != tt.wantStored {
				t.Errorf("stored %+v (%v), want stored %v", u, err, tt.wantStored)
			}
		})
	}
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	s := newServer(t, &apptest.Identities{})
	rec := s.do(call{method: "GET", path: "/api/users/openapi.json"})
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("status %d, body %.200s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/api/users/sign-up", "/api/users/sign-in", "/api/users/sign-out", "/api/users/current-user"} {
		if _, ok := doc.Paths[path]; !ok {
			t.Errorf("document lacks %s", path)
		}
	}
	// The public document leaves out Kratos' web hook, which nginx does not
	// route (Kratos calls auth directly).
	if _, ok := doc.Paths["/api/users/on-sign-up"]; ok {
		t.Error("document lists the internal /api/users/on-sign-up")
	}
}
