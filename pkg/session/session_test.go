package session

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

const (
	aliceID   = "c83b8787-610a-44c0-a9c2-b96ba98e4ad5"
	publicURL = "http://127.0.0.1:8080"
)

// kratosStandIn answers whoami like Kratos v1.3.1 for a few fixed
// credentials, counting calls. It is a unit-test stand-in for the calling
// code, not a model of Kratos.
type kratosStandIn struct {
	calls   atomic.Int64
	release chan struct{} // when non-nil, whoami waits for it
	expires time.Time
	lastReq atomic.Pointer[http.Request]
}

func (k *kratosStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.calls.Add(1)
	k.lastReq.Store(r)
	if r.URL.Path != "/sessions/whoami" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	if k.release != nil {
		<-k.release
	}
	credential := r.Header.Get("X-Session-Token")
	if c, err := r.Cookie(CookieName); err == nil {
		credential = "cookie:" + c.Value
	}
	switch credential {
	case "good", "cookie:good-cookie":
		expires := k.expires
		if expires.IsZero() {
			expires = time.Now().Add(24 * time.Hour)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"80911a62-a295-4da0-9d61-b61ab0482d03","active":true,"expires_at":%q,
			"identity":{"id":%q,"schema_id":"default","state":"active",
			"traits":{"email":"alice@example.com","name":{"first":"Alice","last":"Doe"}}}}`,
			expires.Format(time.RFC3339Nano), aliceID)
	case "no-name":
		fmt.Fprintf(w, `{"id":"s2","active":true,"identity":{"id":%q,"traits":{"email":"bob@example.com"}}}`, aliceID)
	case "inactive":
		fmt.Fprintf(w, `{"id":"s3","active":false,"identity":{"id":%q,"traits":{"email":"x@example.com"}}}`, aliceID)
	case "garbage":
		fmt.Fprint(w, `<html>`)
	case "aal2":
		w.WriteHeader(http.StatusForbidden)
	case "broken":
		w.WriteHeader(http.StatusInternalServerError)
	case "hang":
		time.Sleep(2 * time.Second)
	default:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"status":"Unauthorized","message":"No valid session credentials found in the request."}}`)
	}
}

type fixture struct {
	kratos *kratosStandIn
	auth   *Authenticator
	now    *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFixture(t *testing.T, ttl time.Duration, kratos *kratosStandIn) fixture {
	t.Helper()
	srv := httptest.NewServer(kratos)
	t.Cleanup(srv.Close)
	return newFixtureAt(t, ttl, kratos, srv.URL, httpclient.New(time.Second))
}

func newFixtureAt(t *testing.T, ttl time.Duration, kratos *kratosStandIn, url string, client *http.Client) fixture {
	t.Helper()
	a, err := New(Config{
		KratosPublicURL: url,
		CacheTTL:        ttl,
		PublicURL:       publicURL + "/",
		AllowedOrigins:  []string{"http://localhost:3000"},
	}, client)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	a.now = clock.Now
	return fixture{kratos: kratos, auth: a, now: clock}
}

func TestAuthenticate_MapsKratosAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cred     Credential
		wantKind apierr.Kind
		wantCode string
		want     Identity
	}{
		{
			name: "valid token",
			cred: Credential{Token: "good"},
			want: Identity{ID: aliceID, Email: "alice@example.com", Name: &Name{First: "Alice", Last: "Doe"}},
		},
		{
			name: "valid cookie",
			cred: Credential{Cookie: "good-cookie"},
			want: Identity{ID: aliceID, Email: "alice@example.com", Name: &Name{First: "Alice", Last: "Doe"}},
		},
		{name: "no name", cred: Credential{Token: "no-name"}, want: Identity{ID: aliceID, Email: "bob@example.com"}},
		{name: "unknown token", cred: Credential{Token: "revoked"}, wantKind: apierr.KindUnauthenticated, wantCode: "unauthenticated"},
		{name: "inactive session", cred: Credential{Token: "inactive"}, wantKind: apierr.KindUnauthenticated, wantCode: "unauthenticated"},
		{name: "forbidden (aal)", cred: Credential{Token: "aal2"}, wantKind: apierr.KindUnauthenticated, wantCode: "unauthenticated"},
		{name: "too long", cred: Credential{Token: strings.Repeat("x", 5000)}, wantKind: apierr.KindUnauthenticated, wantCode: "unauthenticated"},
		{name: "kratos fails", cred: Credential{Token: "broken"}, wantKind: apierr.KindUnavailable, wantCode: "dependency_unavailable"},
		{name: "kratos answers garbage", cred: Credential{Token: "garbage"}, wantKind: apierr.KindUnavailable, wantCode: "dependency_unavailable"},
		{name: "kratos hangs", cred: Credential{Token: "hang"}, wantKind: apierr.KindUnavailable, wantCode: "dependency_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 2*time.Second, &kratosStandIn{})
			start := time.Now()
			s, err := f.auth.Authenticate(context.Background(), tt.cred)
			if time.Since(start) > 2*time.Second {
				t.Errorf("Authenticate took %s, want bounded by the client timeout", time.Since(start))
			}
			if tt.wantCode != "" {
				e, ok := apierr.As(err)
				if !ok || e.Kind != tt.wantKind || e.Code != tt.wantCode {
					t.Fatalf("error = %v, want kind %v code %q", err, tt.wantKind, tt.wantCode)
				}
				if tt.wantKind == apierr.KindUnavailable && !strings.Contains(e.Message, "Kratos") {
					t.Errorf("message %q does not name Kratos", e.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate() error = %v", err)
			}
			if s.Identity.ID != tt.want.ID || s.Identity.Email != tt.want.Email ||
				fmt.Sprint(s.Identity.Name) != fmt.Sprint(tt.want.Name) || s.Credential != tt.cred {
				t.Errorf("session = %+v, want identity %+v", s, tt.want)
			}
		})
	}
}

func TestAuthenticate_KratosUnreachableIs503(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	f := newFixtureAt(t, time.Second, &kratosStandIn{}, url, httpclient.New(time.Second))
	_, err := f.auth.Authenticate(context.Background(), Credential{Token: "good"})
	if apierr.Status(err) != http.StatusServiceUnavailable {
		t.Errorf("error = %v, want 503", err)
	}
}

func TestAuthenticate_ForwardsOnlyTheCredential(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cred       Credential
		wantToken  string
		wantCookie string
	}{
		{"token", Credential{Token: "good"}, "good", ""},
		{"cookie", Credential{Cookie: "good-cookie"}, "", CookieName + "=good-cookie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, time.Second, &kratosStandIn{})
			if _, err := f.auth.Authenticate(context.Background(), tt.cred); err != nil {
				t.Fatal(err)
			}
			r := f.kratos.lastReq.Load()
			if r.Header.Get("X-Session-Token") != tt.wantToken || r.Header.Get("Cookie") != tt.wantCookie {
				t.Errorf("whoami got token %q cookie %q", r.Header.Get("X-Session-Token"), r.Header.Get("Cookie"))
			}
		})
	}
}

func TestAuthenticate_CachesWithinTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ttl       time.Duration
		token     string
		expiresIn time.Duration // session expiry; 0 = a day
		steps     []time.Duration
		wantCalls []int64
	}{
		{"positive answer reused within TTL", 2 * time.Second, "good", 0,
			[]time.Duration{0, time.Second, 900 * time.Millisecond, 200 * time.Millisecond}, []int64{1, 1, 1, 2}},
		{"zero TTL never caches", 0, "good", 0,
			[]time.Duration{0, 0, 0}, []int64{1, 2, 3}},
		{"session expiry caps the TTL", 5 * time.Second, "good", 500 * time.Millisecond,
			[]time.Duration{0, 400 * time.Millisecond, 200 * time.Millisecond}, []int64{1, 1, 2}},
		{"refusal cached at most a second", 5 * time.Second, "revoked", 0,
			[]time.Duration{0, 900 * time.Millisecond, 200 * time.Millisecond}, []int64{1, 1, 2}},
		{"failure never cached", 5 * time.Second, "broken", 0,
			[]time.Duration{0, 0}, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kratos := &kratosStandIn{}
			f := newFixture(t, tt.ttl, kratos)
			if tt.expiresIn > 0 {
				kratos.expires = f.now.Now().Add(tt.expiresIn)
			}
			for i, step := range tt.steps {
				f.now.Advance(step)
				_, _ = f.auth.Authenticate(context.Background(), Credential{Token: tt.token})
				if got := kratos.calls.Load(); got != tt.wantCalls[i] {
					t.Fatalf("step %d: %d whoami calls, want %d", i, got, tt.wantCalls[i])
				}
			}
		})
	}
}

func TestForget_DropsTheCachedSessionAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second, &kratosStandIn{})
	good, other := Credential{Token: "good"}, Credential{Cookie: "good-cookie"}
	for _, c := range []Credential{good, other, good, other} {
		if _, err := f.auth.Authenticate(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.kratos.calls.Load(); got != 2 {
		t.Fatalf("%d calls before Forget, want 2", got)
	}
	f.auth.Forget(good)
	_, _ = f.auth.Authenticate(context.Background(), good)
	_, _ = f.auth.Authenticate(context.Background(), other)
	if got := f.kratos.calls.Load(); got != 3 {
		t.Errorf("%d calls after Forget, want 3: only the forgotten credential is asked again", got)
	}
}

func TestForget_WinsOverAnAnswerInFlight(t *testing.T) {
	t.Parallel()
	kratos := &kratosStandIn{release: make(chan struct{})}
	f := newFixture(t, 5*time.Second, kratos)
	cred := Credential{Token: "good"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.auth.Authenticate(context.Background(), cred)
	}()
	waitFor(t, func() bool { return kratos.calls.Load() == 1 })
	f.auth.Forget(cred) // sign-out while whoami is in flight
	close(kratos.release)
	<-done
	_, _ = f.auth.Authenticate(context.Background(), cred)
	if got := kratos.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2: the answer fetched before Forget must not be cached", got)
	}
}

func TestAuthenticate_OneWhoamiForConcurrentRequests(t *testing.T) {
	t.Parallel()
	kratos := &kratosStandIn{release: make(chan struct{})}
	f := newFixture(t, 0, kratos) // no cache: only singleflight can merge
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.auth.Authenticate(context.Background(), Credential{Token: "good"})
			errs <- err
		}()
	}
	waitFor(t, func() bool { return kratos.calls.Load() == 1 })
	time.Sleep(100 * time.Millisecond) // let the other callers join the flight
	close(kratos.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := kratos.calls.Load(); got != 1 {
		t.Errorf("%d whoami calls for %d concurrent requests, want 1", got, n)
	}
}

func TestAuthenticate_CallerGivingUpDoesNotWait(t *testing.T) {
	t.Parallel()
	kratos := &kratosStandIn{release: make(chan struct{})}
	defer close(kratos.release)
	f := newFixture(t, time.Second, kratos)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.auth.Authenticate(ctx, Credential{Token: "good"})
	if apierr.Status(err) != http.StatusServiceUnavailable {
		t.Errorf("error = %v, want 503", err)
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"TTL over 5s", Config{KratosPublicURL: "http://k", CacheTTL: 9 * time.Second}},
		{"negative TTL", Config{KratosPublicURL: "http://k", CacheTTL: -time.Second}},
		{"no Kratos host", Config{KratosPublicURL: "/relative"}},
		{"bad origin", Config{KratosPublicURL: "http://k", AllowedOrigins: []string{"ftp://x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.cfg, http.DefaultClient); err == nil {
				t.Error("New() error = nil")
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	type request struct {
		method  string
		headers map[string]string
	}
	tests := []struct {
		name         string
		optional     bool
		req          request
		wantStatus   int
		wantCode     string
		wantIdentity bool
	}{
		{name: "no credential", req: request{method: "GET"}, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "bearer token", req: request{"GET", map[string]string{"Authorization": "Bearer good"}}, wantStatus: 200, wantIdentity: true},
		{name: "bearer scheme is case-insensitive", req: request{"POST", map[string]string{"Authorization": "bearer good"}}, wantStatus: 200, wantIdentity: true},
		{name: "X-Session-Token", req: request{"DELETE", map[string]string{"X-Session-Token": "good"}}, wantStatus: 200, wantIdentity: true},
		{name: "basic auth is not a session", req: request{"GET", map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}}, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "bad token", req: request{"GET", map[string]string{"Authorization": "Bearer revoked"}}, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "kratos down", req: request{"GET", map[string]string{"Authorization": "Bearer broken"}}, wantStatus: 503, wantCode: "dependency_unavailable"},
		{name: "cookie read", req: request{"GET", map[string]string{"Cookie": "other=1; " + CookieName + "=good-cookie"}}, wantStatus: 200, wantIdentity: true},
		{name: "cookie write without origin", req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie"}}, wantStatus: 403, wantCode: "csrf_failed"},
		{name: "cookie write from public URL", req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie", "Origin": publicURL}}, wantStatus: 200, wantIdentity: true},
		{name: "cookie write from allowed origin", req: request{"PATCH", map[string]string{"Cookie": CookieName + "=good-cookie", "Origin": "http://LOCALHOST:3000"}}, wantStatus: 200, wantIdentity: true},
		{name: "cookie write from foreign origin", req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie", "Origin": "https://evil.example"}}, wantStatus: 403, wantCode: "csrf_failed"},
		{name: "cookie write from null origin", req: request{"DELETE", map[string]string{"Cookie": CookieName + "=good-cookie", "Origin": "null"}}, wantStatus: 403, wantCode: "csrf_failed"},
		{name: "cookie write with allowed referer", req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie", "Referer": publicURL + "/tickets/1?x=y"}}, wantStatus: 200, wantIdentity: true},
		{name: "cookie write with foreign referer", req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie", "Referer": "http://127.0.0.1:8081/"}}, wantStatus: 403, wantCode: "csrf_failed"},
		{name: "origin is checked before kratos", req: request{"POST", map[string]string{"Cookie": CookieName + "=broken", "Origin": "https://evil.example"}}, wantStatus: 403, wantCode: "csrf_failed"},
		{name: "token wins over cookie, no origin needed", req: request{"POST", map[string]string{"Cookie": CookieName + "=x", "X-Session-Token": "good"}}, wantStatus: 200, wantIdentity: true},
		{name: "optional without credential", optional: true, req: request{method: "GET"}, wantStatus: 200},
		{name: "optional with bad token", optional: true, req: request{"GET", map[string]string{"Authorization": "Bearer revoked"}}, wantStatus: 200},
		{name: "optional with good token", optional: true, req: request{"GET", map[string]string{"Authorization": "Bearer good"}}, wantStatus: 200, wantIdentity: true},
		{name: "optional with kratos down", optional: true, req: request{"GET", map[string]string{"Authorization": "Bearer broken"}}, wantStatus: 503, wantCode: "dependency_unavailable"},
		{name: "optional cookie write from foreign origin", optional: true, req: request{"POST", map[string]string{"Cookie": CookieName + "=good-cookie", "Origin": "https://evil.example"}}, wantStatus: 403, wantCode: "csrf_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, time.Second, &kratosStandIn{})
			mw := f.auth.Require()
			if tt.optional {
				mw = f.auth.Optional()
			}
			e := gin.New()
			var fromGin, fromRequest Identity
			var okGin, okRequest bool
			e.Handle(tt.req.method, "/r", mw, func(c *gin.Context) {
				fromGin, okGin = IdentityFrom(c)
				fromRequest, okRequest = IdentityFrom(c.Request.Context())
				c.Status(http.StatusOK)
			})
			req := httptest.NewRequest(tt.req.method, "/r", nil)
			for k, v := range tt.req.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantCode != "" {
				var body apierr.Body
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != tt.wantCode {
					t.Errorf("body = %s, want code %q", rec.Body, tt.wantCode)
				}
			}
			if okGin != tt.wantIdentity || okRequest != tt.wantIdentity {
				t.Fatalf("identity in gin context %v, in request context %v; want %v", okGin, okRequest, tt.wantIdentity)
			}
			if tt.wantIdentity && (fromGin.ID != aliceID || fromRequest.ID != aliceID) {
				t.Errorf("identities %+v, %+v", fromGin, fromRequest)
			}
		})
	}
}

func TestFromContext_CarriesCredentialAndSessionID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second, &kratosStandIn{})
	e := httpserver.New(discardLogger())
	var got Session
	e.POST("/sign-out", f.auth.Require(), func(c *gin.Context) {
		got, _ = FromContext(c.Request.Context())
	})
	req := httptest.NewRequest(http.MethodPost, "/sign-out", nil)
	req.Header.Set("Cookie", CookieName+"=good-cookie")
	req.Header.Set("Origin", publicURL)
	e.ServeHTTP(httptest.NewRecorder(), req)
	if got.ID == "" || !got.Credential.FromCookie() || got.Credential.Cookie != "good-cookie" {
		t.Errorf("session = %+v", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCredentialAttach_IsReadBackAsTheSameCredential(t *testing.T) {
	t.Parallel()
	for _, c := range []Credential{{Token: "a-token"}, {Cookie: "a-cookie"}} {
		req := httptest.NewRequest(http.MethodGet, "/api/orders/x", nil)
		c.Attach(req)
		got, ok := credentialFrom(req)
		if !ok || got != c {
			t.Errorf("attached %+v, read back %+v (%v)", c, got, ok)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/api/orders/x", nil)
	Credential{}.Attach(req)
	if _, ok := credentialFrom(req); ok {
		t.Error("an empty credential attached something")
	}
}
