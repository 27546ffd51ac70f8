package adapters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpclient"
)

const (
	identityID = "c83b8787-610a-44c0-a9c2-b96ba98e4ad5"
	flowID     = "84952b9f-d900-4b81-b51d-8962e2619515"
)

// Answers shaped like Kratos v1.3.1's (recorded from a real server, trimmed).
const (
	flowAnswer          = `{"id":"` + flowID + `","type":"api","ui":{"action":"http://x/self-service/registration?flow=` + flowID + `","method":"POST","nodes":[]},"state":"choose_method"}`
	registrationSuccess = `{"session_token":"ory_st_abc","session":{"id":"80911a62-a295-4da0-9d61-b61ab0482d03","active":true,"identity":{"id":"` + identityID + `","traits":{"email":"alice@example.com","name":{"first":"Alice","last":"Doe"}}}},"identity":{"id":"` + identityID + `","schema_id":"default","state":"active","traits":{"email":"alice@example.com","name":{"first":"Alice","last":"Doe"}},"metadata_public":null},"continue_with":[{"action":"set_ory_session_token","ory_session_token":"ory_st_abc"}]}`
	loginSuccess        = `{"session_token":"ory_st_def","session":{"id":"4160f8c9-5149-469f-b3c1-867d4bff7f4d","active":true,"identity":{"id":"` + identityID + `","traits":{"name":{"last":"Doe","first":"Alice"},"email":"alice@example.com"}}},"continue_with":null}`
	duplicateAnswer     = `{"id":"` + flowID + `","type":"api","ui":{"nodes":[{"type":"input","group":"default","attributes":{"name":"traits.email","type":"email"},"messages":[]},{"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden"},"messages":[]}],"messages":[{"id":4000007,"text":"An account with the same identifier (email, phone, username, ...) exists already.","type":"error"}]},"state":"choose_method"}`
	tooSimilarAnswer    = `{"id":"` + flowID + `","type":"api","ui":{"nodes":[{"type":"input","group":"default","attributes":{"name":"traits.email","type":"email","value":"carol@example.com"},"messages":[]},{"type":"input","group":"default","attributes":{"name":"password","type":"text"},"messages":[{"id":4000031,"text":"The password can not be used because it is too similar to the identifier.","type":"error"}]}]},"state":"choose_method"}`
	policyTopLevel      = `{"id":"` + flowID + `","ui":{"nodes":[],"messages":[{"id":4000005,"text":"The password can not be used because password length must be at least 12 characters.","type":"error"}]}}`
	badEmailAnswer      = `{"id":"` + flowID + `","ui":{"nodes":[{"attributes":{"name":"traits.email"},"messages":[{"id":4000004,"text":"\"x@y\" is not valid \"email\"","type":"error"}]},{"attributes":{"name":"traits.name.first"},"messages":[{"id":4000017,"text":"length must be <= 64, but got 70","type":"error"}]}]}}`
	wrongCredentials    = `{"id":"` + flowID + `","type":"api","ui":{"nodes":[{"attributes":{"name":"identifier"},"messages":[]}],"messages":[{"id":4000006,"text":"The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.","type":"error"}]}}`
	infoOnlyAnswer      = `{"id":"` + flowID + `","ui":{"nodes":[],"messages":[{"id":1040001,"text":"Sign up","type":"info"}]}}`
	generalAnswer       = `{"id":"` + flowID + `","ui":{"nodes":[],"messages":[{"id":4000001,"text":"something about the flow","type":"error"}]}}`
)

// kratosStandIn answers Kratos' routes with canned answers and records what
// it was sent. It is a unit-test stand-in for the calling code, not a model
// of Kratos; the real server is exercised by the end-to-end tests.
type kratosStandIn struct {
	mu      sync.Mutex
	answers map[string]answer // "METHOD /path" → answer
	seen    []seenRequest
}

type answer struct {
	status int
	body   string
}

type seenRequest struct {
	method, path, query string
	body                map[string]any
}

func (k *kratosStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	k.mu.Lock()
	k.seen = append(k.seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, body})
	a, ok := k.answers[r.Method+" "+r.URL.Path]
	k.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func newKratos(t *testing.T, answers map[string]answer) (*adapters.KratosClient, *kratosStandIn) {
	t.Helper()
	standIn := &kratosStandIn{answers: answers}
	srv := httptest.NewServer(standIn)
	t.Cleanup(srv.Close)
	client, err := adapters.NewKratosClient(srv.URL, srv.URL+"/admin-api", httpclient.New(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return client, standIn
}

func registration(t *testing.T, name domain.Name) domain.Registration {
	t.Helper()
	r, err := domain.NewRegistration("alice@example.com", "correct horse battery", name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKratosRegister_RunsTheNativeFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		regName    domain.Name
		wantTraits string
	}{
		{"with name", domain.Name{First: "Alice", Last: "Doe"}, `{"email":"alice@example.com","name":{"first":"Alice","last":"Doe"}}`},
		{"without name", domain.Name{}, `{"email":"alice@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos, standIn := newKratos(t, map[string]answer{
				"GET /self-service/registration/api": {200, flowAnswer},
				"POST /self-service/registration":    {200, registrationSuccess},
			})
			got, err := kratos.Register(context.Background(), registration(t, tt.regName))
			if err != nil {
				t.Fatal(err)
			}
			if got.Token != "ory_st_abc" || got.User.ID() != identityID || got.User.Email() != "alice@example.com" ||
				got.User.Name() != (domain.Name{First: "Alice", Last: "Doe"}) {
				t.Errorf("signed in %+v %+v", got, got.User)
			}
			if len(standIn.seen) != 2 {
				t.Fatalf("%d requests, want 2", len(standIn.seen))
			}
			submit := standIn.seen[1]
			traits, _ := json.Marshal(submit.body["traits"])
			if submit.query != "flow="+flowID || submit.body["method"] != "password" ||
				submit.body["password"] != "correct horse battery" || string(traits) != tt.wantTraits {
				t.Errorf("submitted %+v (traits %s)", submit, traits)
			}
		})
	}
}

func TestKratosLogin_RunsTheNativeFlow(t *testing.T) {
	t.Parallel()
	kratos, standIn := newKratos(t, map[string]answer{
		"GET /self-service/login/api": {200, flowAnswer},
		"POST /self-service/login":    {200, loginSuccess},
	})
	creds, _ := domain.NewCredentials("Alice@example.com", "pw")
	got, err := kratos.Login(context.Background(), creds)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "ory_st_def" || got.User.ID() != identityID {
		t.Errorf("signed in %+v", got)
	}
	submit := standIn.seen[1].body
	if submit["method"] != "password" || submit["identifier"] != "alice@example.com" || submit["password"] != "pw" {
		t.Errorf("submitted %v", submit)
	}
}

func TestKratosFlows_MapRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		kind       string // registration or login
		status     int
		body       string
		wantStatus int
		wantCode   string
		wantFields map[string]string
	}{
		{"email taken", "registration", 400, duplicateAnswer, 409, "email_taken", map[string]string{"email": "is already taken"}},
		{"password too similar", "registration", 400, tooSimilarAnswer, 400, "validation_failed",
			map[string]string{"password": "The password can not be used because it is too similar to the identifier."}},
		{"password policy at flow level", "registration", 400, policyTopLevel, 400, "validation_failed",
			map[string]string{"password": "The password can not be used because password length must be at least 12 characters."}},
		{"invalid traits", "registration", 400, badEmailAnswer, 400, "validation_failed",
			map[string]string{"email": `"x@y" is not valid "email"`, "name.first": "length must be <= 64, but got 70"}},
		{"wrong credentials name no field", "login", 400, wrongCredentials, 400, "invalid_credentials", map[string]string{}},
		{"general refusal", "login", 400, generalAnswer, 400, "login_refused", map[string]string{}},
		{"refusal without error message", "registration", 400, infoOnlyAnswer, 500, "internal", nil},
		{"kratos fails", "registration", 500, `{"error":{"code":500}}`, 503, "dependency_unavailable", nil},
		{"registration web hook found a conflict", "registration", 502,
			`{"error":{"code":502,"status":"Bad Gateway","reason":"A third-party upstream service responded improperly. Please try again later.","message":"webhook failed with status code 409"}}`,
			409, "email_taken", map[string]string{"email": "is already taken"}},
		{"registration web hook failed otherwise", "registration", 502,
			`{"error":{"code":502,"status":"Bad Gateway","message":"webhook failed with status code 503"}}`, 503, "dependency_unavailable", nil},
		{"kratos overloaded", "login", 429, ``, 503, "dependency_unavailable", nil},
		{"flow expired", "login", 410, `{"error":{"id":"self_service_flow_expired"}}`, 500, "internal", nil},
		{"success without token", "registration", 200, `{"identity":{"id":"` + identityID + `","traits":{"email":"a@example.com"}}}`, 500, "internal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos, _ := newKratos(t, map[string]answer{
				"GET /self-service/" + tt.kind + "/api": {200, flowAnswer},
				"POST /self-service/" + tt.kind:         {tt.status, tt.body},
			})
			var err error
			if tt.kind == "login" {
				creds, _ := domain.NewCredentials("alice@example.com", "wrong")
				_, err = kratos.Login(context.Background(), creds)
			} else {
				_, err = kratos.Register(context.Background(), registration(t, domain.Name{}))
			}
			assertAPIError(t, err, tt.wantStatus, tt.wantCode, tt.wantFields)
		})
	}
}

func TestKratos_UnreachableIs503(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	kratos, err := adapters.NewKratosClient(srv.URL, srv.URL, httpclient.New(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	creds, _ := domain.NewCredentials("a@example.com", "pw")
	_, loginErr := kratos.Login(ctx, creds)
	_, regErr := kratos.Register(ctx, registration(t, domain.Name{}))
	_, identityErr := kratos.Identity(ctx, identityID)
	_, deleteErr := kratos.DeleteIdentityCreatedWithin(ctx, identityID, time.Minute)
	for name, err := range map[string]error{
		"login":           loginErr,
		"register":        regErr,
		"revoke token":    kratos.RevokeToken(ctx, "t"),
		"revoke session":  kratos.RevokeSession(ctx, "s"),
		"identity":        identityErr,
		"delete identity": deleteErr,
		"ready":           kratos.Ready(ctx),
	} {
		e, ok := apierr.As(err)
		if !ok || e.Kind != apierr.KindUnavailable || !strings.Contains(e.Message, "Kratos") {
			t.Errorf("%s: %v, want 503 naming Kratos", name, err)
		}
	}
}

func TestKratosRevoke(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		route      string
		status     int
		call       func(*adapters.KratosClient) error
		wantStatus int // 0: success
		wantBody   map[string]any
	}{
		{"token revoked", "DELETE /self-service/logout/api", 204,
			func(k *adapters.KratosClient) error { return k.RevokeToken(context.Background(), "ory_st_abc") }, 0,
			map[string]any{"session_token": "ory_st_abc"}},
		{"token already gone", "DELETE /self-service/logout/api", 403,
			func(k *adapters.KratosClient) error { return k.RevokeToken(context.Background(), "ory_st_abc") }, 0, nil},
		{"token revoke fails", "DELETE /self-service/logout/api", 502,
			func(k *adapters.KratosClient) error { return k.RevokeToken(context.Background(), "ory_st_abc") }, 503, nil},
		{"token malformed", "DELETE /self-service/logout/api", 400,
			func(k *adapters.KratosClient) error { return k.RevokeToken(context.Background(), "ory_st_abc") }, 500, nil},
		{"session revoked", "DELETE /admin-api/admin/sessions/s1", 204,
			func(k *adapters.KratosClient) error { return k.RevokeSession(context.Background(), "s1") }, 0, nil},
		{"session already gone", "DELETE /admin-api/admin/sessions/s1", 404,
			func(k *adapters.KratosClient) error { return k.RevokeSession(context.Background(), "s1") }, 0, nil},
		{"session revoke fails", "DELETE /admin-api/admin/sessions/s1", 500,
			func(k *adapters.KratosClient) error { return k.RevokeSession(context.Background(), "s1") }, 503, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos, standIn := newKratos(t, map[string]answer{tt.route: {tt.status, ""}})
			err := tt.call(kratos)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
			} else if apierr.Status(err) != tt.wantStatus {
				t.Fatalf("error = %v, want %d", err, tt.wantStatus)
			}
			if tt.wantBody != nil && fmt.Sprint(standIn.seen[0].body) != fmt.Sprint(tt.wantBody) {
				t.Errorf("body %v, want %v", standIn.seen[0].body, tt.wantBody)
			}
		})
	}
}

func TestKratosIdentityAndReady(t *testing.T) {
	t.Parallel()
	identity := `{"id":"` + identityID + `","schema_id":"default","state":"active","traits":{"email":"Alice@example.com","name":{"first":"Alice"}}}`
	tests := []struct {
		name       string
		status     int
		body       string
		wantEmail  string
		wantStatus int // 0: success
	}{
		{"exists", 200, identity, "alice@example.com", 0},
		{"deleted", 404, `{"error":{"code":404}}`, "", 404},
		{"kratos fails", 500, `{}`, "", 503},
		{"unusable identity", 200, `{"id":"nope"}`, "", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos, _ := newKratos(t, map[string]answer{
				"GET /admin-api/admin/identities/" + identityID: {tt.status, tt.body},
				"GET /admin-api/admin/health/ready":             {tt.status, `{"status":"ok"}`},
			})
			u, err := kratos.Identity(context.Background(), identityID)
			switch {
			case tt.wantStatus == 0 && (err != nil || u.Email() != tt.wantEmail || u.Name().First != "Alice"):
				t.Errorf("Identity = %+v, %v; want email %s", u, err, tt.wantEmail)
			case tt.wantStatus != 0 && apierr.Status(err) != tt.wantStatus:
				t.Errorf("Identity error = %v, want status %d", err, tt.wantStatus)
			}
			if readyErr := kratos.Ready(context.Background()); (readyErr != nil) != (tt.status != 200) {
				t.Errorf("Ready = %v", readyErr)
			}
		})
	}
}

func TestKratosDeleteIdentityCreatedWithin(t *testing.T) {
	t.Parallel()
	get := "GET /admin-api/admin/identities/" + identityID
	remove := "DELETE /admin-api/admin/identities/" + identityID
	createdAt := func(ago time.Duration) string {
		return `{"id":"` + identityID + `","created_at":"` + time.Now().Add(-ago).UTC().Format(time.RFC3339Nano) + `"}`
	}
	tests := []struct {
		name        string
		answers     map[string]answer
		wantDeleted bool
		wantStatus  int // 0: success
		wantDelete  bool
	}{
		{"created just now: deleted", map[string]answer{get: {200, createdAt(time.Second)}, remove: {204, ``}}, true, 0, true},
		{"created long ago: kept", map[string]answer{get: {200, createdAt(time.Hour)}, remove: {204, ``}}, false, 0, false},
		{"already gone", map[string]answer{get: {404, `{}`}}, false, 0, false},
		{"gone meanwhile", map[string]answer{get: {200, createdAt(time.Second)}, remove: {404, `{}`}}, false, 0, true},
		{"no creation time", map[string]answer{get: {200, `{"id":"` + identityID + `"}`}}, false, 503, false},
		{"reading fails", map[string]answer{get: {500, `{}`}}, false, 503, false},
		{"delete fails", map[string]answer{get: {200, createdAt(time.Second)}, remove: {500, `{}`}}, false, 503, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos, standIn := newKratos(t, tt.answers)
			deleted, err := kratos.DeleteIdentityCreatedWithin(context.Background(), identityID, time.Minute)
			if deleted != tt.wantDeleted || tt.wantStatus == 0 && err != nil || tt.wantStatus != 0 && apierr.Status(err) != tt.wantStatus {
				t.Errorf("DeleteIdentityCreatedWithin = %v, %v; want %v, status %d", deleted, err, tt.wantDeleted, tt.wantStatus)
			}
			askedToDelete := false
			for _, r := range standIn.seen {
				askedToDelete = askedToDelete || r.method == "DELETE"
			}
			if askedToDelete != tt.wantDelete {
				t.Errorf("sent a DELETE: %v, want %v", askedToDelete, tt.wantDelete)
			}
		})
	}
}

func assertAPIError(t *testing.T, err error, status int, code string, fields map[string]string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || apierr.Status(err) != status {
		t.Fatalf("error = %v, want status %d", err, status)
	}
	if got := apierr.BodyOf(err).Error.Code; got != code {
		t.Errorf("code = %q, want %q", got, code)
	}
	if fields == nil {
		return
	}
	got := make(map[string]string)
	for _, f := range e.Fields {
		got[f.Field] = f.Message
	}
	if fmt.Sprint(got) != fmt.Sprint(fields) {
		t.Errorf("fields = %v, want %v", got, fields)
	}
}
