package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

func TestIdentityJourney_SignUpSignInSignOut(t *testing.T) {
	t.Parallel()
	u := signUp(t, "journey")

	var me struct{ ID, Email string }
	do(t, request{Method: "GET", Path: "/api/users/current-user", Token: u.Token}).
		wantStatus(t, http.StatusOK).decode(t, &me)
	if me.ID != u.ID || me.Email != u.Email {
		t.Fatalf("current-user = %+v, want id %s email %s", me, u.ID, u.Email)
	}
	// The X-Session-Token header works as well as Authorization: Bearer.
	do(t, request{Method: "GET", Path: "/api/users/current-user", Headers: map[string]string{"X-Session-Token": u.Token}}).
		wantStatus(t, http.StatusOK)

	var in struct {
		User  struct{ ID, Email string }
		Token string
	}
	do(t, request{Method: "POST", Path: "/api/users/sign-in", Body: map[string]string{
		"email": strings.ToUpper(u.Email), "password": u.Password, // emails are case-insensitive
	}}).wantStatus(t, http.StatusOK).decode(t, &in)
	if in.User.ID != u.ID || in.Token == "" || in.Token == u.Token {
		t.Fatalf("sign-in = %+v, want user %s with a new token", in, u.ID)
	}

	do(t, request{Method: "POST", Path: "/api/users/sign-out", Token: u.Token}).wantStatus(t, http.StatusNoContent)
	do(t, request{Method: "GET", Path: "/api/users/current-user", Token: u.Token}).
		wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	// Signing out ends that session only: the other one still works.
	do(t, request{Method: "GET", Path: "/api/users/current-user", Token: in.Token}).wantStatus(t, http.StatusOK)
	// The revoked token is refused by Kratos itself, not only by auth's cache.
	req, _ := http.NewRequest("GET", stackEnv["TEST_KRATOS_PUBLIC_URL"]+"/sessions/whoami", nil)
	req.Header.Set("X-Session-Token", u.Token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Kratos whoami with the signed-out token: %d, want 401", resp.StatusCode)
	}
}

func TestSignUp_RecordsUserInAuthDatabase(t *testing.T) {
	t.Parallel()
	u := signUp(t, "record")
	var doc bson.M
	err := mongoDB(t, "auth").Collection("users").FindOne(context.Background(), bson.M{"_id": u.ID}).Decode(&doc)
	if err != nil {
		t.Fatalf("user %s not in auth's database: %v", u.ID, err)
	}
	if doc["email"] != u.Email {
		t.Fatalf("stored email %v, want %s", doc["email"], u.Email)
	}
}

func TestSignUp_RejectsDuplicateEmail(t *testing.T) {
	t.Parallel()
	u := signUp(t, "dup")
	for _, email := range []string{u.Email, strings.ToUpper(u.Email)} {
		do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]string{
			"email": email, "password": goodPassword,
		}}).wantError(t, http.StatusConflict, "email_taken", "email")
	}
	n, err := mongoDB(t, "auth").Collection("users").CountDocuments(context.Background(), bson.M{"email": u.Email})
	if err != nil || n != 1 {
		t.Fatalf("users with %s: %d (%v), want 1", u.Email, n, err)
	}
}

func TestSignUp_RejectsBadInput(t *testing.T) {
	t.Parallel()
	email := uniqueEmail("bad")
	long := strings.Repeat("a", 73)
	cases := []struct {
		name   string
		body   any
		ctype  string
		status int
		code   string
		field  string
	}{
		{"malformed JSON", `{"email":`, "", 400, "", ""},
		{"empty body", ``, "", 400, "", ""},
		{"not an object", `[1,2]`, "", 400, "", ""},
		{"missing email", map[string]any{"password": goodPassword}, "", 400, "validation_failed", "email"},
		{"missing password", map[string]any{"email": email}, "", 400, "validation_failed", "password"},
		{"invalid email", map[string]any{"email": "not-an-email", "password": goodPassword}, "", 400, "validation_failed", "email"},
		{"password too short", map[string]any{"email": email, "password": "short"}, "", 400, "validation_failed", "password"},
		{"password too long", map[string]any{"email": email, "password": long}, "", 400, "validation_failed", "password"},
		{"password equals email", map[string]any{"email": email, "password": email}, "", 400, "", "password"},
		{"email of wrong type", map[string]any{"email": 42, "password": goodPassword}, "", 400, "", "email"},
		{"unknown field", map[string]any{"email": email, "password": goodPassword, "admin": true}, "", 400, "", "admin"},
		{"name too long", map[string]any{"email": email, "password": goodPassword, "name": map[string]string{"first": strings.Repeat("x", 65)}}, "", 400, "validation_failed", "name.first"},
		{"wrong content type", "email=a@b.c", "application/x-www-form-urlencoded", 415, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := request{Method: "POST", Path: "/api/users/sign-up", Body: tc.body}
			if tc.ctype != "" {
				r.Body, r.Headers = []byte(tc.body.(string)), map[string]string{"Content-Type": tc.ctype}
			}
			do(t, r).wantError(t, tc.status, tc.code, tc.field)
		})
	}
	// Nothing of the rejected sign-ups was written.
	n, err := mongoDB(t, "auth").Collection("users").CountDocuments(context.Background(), bson.M{"email": email})
	if err != nil || n != 0 {
		t.Fatalf("rejected sign-ups left %d users (%v)", n, err)
	}
}

func TestSignIn_RejectsBadInput(t *testing.T) {
	t.Parallel()
	u := signUp(t, "signin")
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"wrong password", map[string]any{"email": u.Email, "password": "wrong-password-123"}, 400, "invalid_credentials", ""},
		{"unknown email", map[string]any{"email": uniqueEmail("nobody"), "password": goodPassword}, 400, "invalid_credentials", ""},
		{"missing password", map[string]any{"email": u.Email}, 400, "validation_failed", "password"},
		{"missing email", map[string]any{"password": goodPassword}, 400, "validation_failed", "email"},
		{"malformed JSON", `{"email"`, 400, "", ""},
		{"unknown field", map[string]any{"email": u.Email, "password": goodPassword, "remember": true}, 400, "", "remember"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do(t, request{Method: "POST", Path: "/api/users/sign-in", Body: tc.body}).wantError(t, tc.status, tc.code, tc.field)
		})
	}
}

func TestCurrentUser_RejectsMissingAndBadTokens(t *testing.T) {
	t.Parallel()
	u := signUp(t, "tokens")
	// A session revoked by an administrator in Kratos stops working within 5 s.
	revoked := signUp(t, "revoked")
	req, _ := http.NewRequest("DELETE", stackEnv["TEST_KRATOS_ADMIN_URL"]+"/admin/identities/"+revoked.ID+"/sessions", nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking sessions in Kratos: %d", resp.StatusCode)
	}
	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"no token", nil},
		{"garbage bearer token", map[string]string{"Authorization": "Bearer not-a-session"}},
		{"empty bearer token", map[string]string{"Authorization": "Bearer "}},
		{"other scheme", map[string]string{"Authorization": "Basic " + u.Token}},
		{"garbage session header", map[string]string{"X-Session-Token": "ory_st_nope"}},
		{"garbage cookie", map[string]string{"Cookie": "ory_kratos_session=forged"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do(t, request{Method: "GET", Path: "/api/users/current-user", Headers: tc.headers}).
				wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		})
	}
	t.Run("revoked session", func(t *testing.T) {
		t.Parallel()
		eventually(t, 5*time.Second, "revoked token still accepted", func() bool {
			return do(t, request{Method: "GET", Path: "/api/users/current-user", Token: revoked.Token}).Status == http.StatusUnauthorized
		})
	})
	t.Run("sign-out without a session", func(t *testing.T) {
		t.Parallel()
		do(t, request{Method: "POST", Path: "/api/users/sign-out"}).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	})
}

func TestOnSignUpWebhook_RequiresAPIKeyAndIsIdempotent(t *testing.T) {
	t.Parallel()
	// The hook records identities Kratos has: one made with the admin API.
	email := uniqueEmail("hook")
	var created struct{ ID string }
	kratosAdmin(t, "POST", "/admin/identities", map[string]any{"schema_id": "default", "traits": map[string]any{"email": email}}).
		wantStatus(t, http.StatusCreated).decode(t, &created)
	id := created.ID
	body := map[string]any{"identity": map[string]any{"id": id, "traits": map[string]any{"email": email}}}
	key, auth := stackEnv["TEST_AUTH_WEBHOOK_API_KEY"], stackEnv["TEST_AUTH_URL"]
	if key == "" || auth == "" {
		t.Fatal("TEST_AUTH_WEBHOOK_API_KEY or TEST_AUTH_URL is not set")
	}
	// Kratos calls auth directly; nginx does not route the web hook
	// (TestOnSignUpWebhook_NotRoutedByNginx).
	do(t, request{Base: auth, Method: "POST", Path: "/api/users/on-sign-up", Body: body}).
		wantError(t, http.StatusUnauthorized, "", "")
	do(t, request{Base: auth, Method: "POST", Path: "/api/users/on-sign-up", Body: body, Headers: map[string]string{"X-Ory-API-Key": key + "x"}}).
		wantError(t, http.StatusUnauthorized, "", "")
	var count int64
	for i := 0; i < 2; i++ {
		do(t, request{Base: auth, Method: "POST", Path: "/api/users/on-sign-up", Body: body, Headers: map[string]string{"X-Ory-API-Key": key}}).
			wantStatus(t, http.StatusOK)
		n, err := mongoDB(t, "auth").Collection("users").CountDocuments(context.Background(), bson.M{"_id": id})
		if err != nil {
			t.Fatal(err)
		}
		count = n
	}
	if count != 1 {
		t.Fatalf("after the webhook twice: %d users with id %s, want 1", count, id)
	}
}

// TestCookieSession_CSRF signs up through Kratos' browser flow (as a web
// page would), then checks that cookie-authenticated writes need an allowed
// Origin.
func TestCookieSession_CSRF(t *testing.T) {
	t.Parallel()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	email := uniqueEmail("browser")

	var flow struct {
		ID string `json:"id"`
		UI struct {
			Nodes []struct {
				Attributes struct {
					Name  string `json:"name"`
					Value any    `json:"value"`
				} `json:"attributes"`
			} `json:"nodes"`
		} `json:"ui"`
	}
	req, _ := http.NewRequest("GET", baseURL()+"/.ory/kratos/self-service/registration/browser", nil)
	req.Header.Set("Accept", "application/json")
	getJSON(t, browser, req, http.StatusOK, &flow)
	csrf := ""
	for _, n := range flow.UI.Nodes {
		if n.Attributes.Name == "csrf_token" {
			csrf, _ = n.Attributes.Value.(string)
		}
	}
	if flow.ID == "" || csrf == "" {
		t.Fatalf("browser registration flow without id or csrf token: %+v", flow)
	}
	body := `{"method":"password","csrf_token":"` + csrf + `","password":"` + goodPassword + `","traits":{"email":"` + email + `"}}`
	req, _ = http.NewRequest("POST", baseURL()+"/.ory/kratos/self-service/registration?flow="+flow.ID, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	getJSON(t, browser, req, http.StatusOK, nil)

	me, _ := http.NewRequest("GET", baseURL()+"/api/users/current-user", nil)
	var got struct{ Email string }
	getJSON(t, browser, me, http.StatusOK, &got)
	if got.Email != email {
		t.Fatalf("cookie session is %q, want %q", got.Email, email)
	}

	for _, origin := range []string{"", "http://evil.example"} {
		req, _ = http.NewRequest("POST", baseURL()+"/api/users/sign-out", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp := sendWith(t, browser, req)
		resp.wantError(t, http.StatusForbidden, "csrf_failed", "")
	}
	req, _ = http.NewRequest("POST", baseURL()+"/api/users/sign-out", nil)
	req.Header.Set("Origin", baseURL())
	sendWith(t, browser, req).wantStatus(t, http.StatusNoContent)
	me, _ = http.NewRequest("GET", baseURL()+"/api/users/current-user", nil)
	sendWith(t, browser, me).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
}

func sendWith(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func getJSON(t *testing.T, c *http.Client, req *http.Request, status int, v any) {
	t.Helper()
	r := sendWith(t, c, req).wantStatus(t, status)
	if v != nil {
		r.decode(t, v)
	}
}
