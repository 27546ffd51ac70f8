package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestRateLimit_SignInAnswers429WithRetryAfter runs before the parallel
// tests (it does not call t.Parallel), so its burst is its own.
func TestRateLimit_SignInAnswers429WithRetryAfter(t *testing.T) {
	const attempts = 80
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
		one   response
	)
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := doOnce(t, request{Method: "POST", Path: "/api/users/sign-in", Body: map[string]string{
				"email": "nobody@example.com", "password": "wrong-password-123",
			}})
			mu.Lock()
			defer mu.Unlock()
			codes[r.Status]++
			if r.Status == http.StatusTooManyRequests {
				one = r
			}
		}()
	}
	wg.Wait()
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("%d sign-ins at once were never rate limited: %v", attempts, codes)
	}
	if codes[http.StatusBadRequest] == 0 {
		t.Fatalf("no sign-in got through to auth at all: %v", codes)
	}
	for code := range codes {
		if code != http.StatusBadRequest && code != http.StatusTooManyRequests {
			t.Fatalf("unexpected status %d among %v", code, codes)
		}
	}
	one.wantError(t, http.StatusTooManyRequests, "rate_limited", "")
	if one.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Reads are not rate limited.
	for i := 0; i < 30; i++ {
		doOnce(t, request{Method: "GET", Path: "/api/users/openapi.json"}).wantStatus(t, http.StatusOK)
	}
}

func TestNginx_OwnErrorsAreJSON(t *testing.T) {
	t.Parallel()
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name   string
		req    request
		status int
		code   string
	}{
		{"unknown path", request{Method: "GET", Path: "/no/such/thing"}, 404, "not_found"},
		{"body over the limit", request{Method: "POST", Path: "/api/users/sign-up", Body: big}, 413, "body_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doOnce(t, tc.req).wantError(t, tc.status, tc.code, "")
		})
	}
}

func TestNginx_SecurityHeadersAndRequestID(t *testing.T) {
	t.Parallel()
	r := doOnce(t, request{Method: "GET", Path: "/api/users/current-user", Headers: map[string]string{"X-Request-Id": "test-request-0123456789"}})
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"X-Request-Id":           "test-request-0123456789",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	// Without an incoming id, nginx makes one.
	if id := doOnce(t, request{Method: "GET", Path: "/nope"}).Header.Get("X-Request-Id"); len(id) < 16 {
		t.Errorf("generated request id %q", id)
	}
}

func TestNginx_CORSAllowlist(t *testing.T) {
	t.Parallel()
	allowed := "http://localhost:3000" // CORS_ALLOWED_ORIGINS in .env.example
	cases := []struct {
		origin string
		echoed bool
	}{
		{allowed, true},
		{baseURL(), true},
		{"http://evil.example", false},
		{"http://localhost:30000", false},
	}
	for _, tc := range cases {
		t.Run(tc.origin, func(t *testing.T) {
			t.Parallel()
			r := doOnce(t, request{Method: "OPTIONS", Path: "/api/users/sign-in", Headers: map[string]string{
				"Origin": tc.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
			}})
			got := r.Header.Get("Access-Control-Allow-Origin")
			if tc.echoed && (got != tc.origin || r.Status != http.StatusNoContent) {
				t.Fatalf("preflight from %s: %d, Allow-Origin %q; want 204 echoing it", tc.origin, r.Status, got)
			}
			if !tc.echoed && got != "" {
				t.Fatalf("preflight from %s was allowed (%q)", tc.origin, got)
			}
		})
	}
}

func TestOpenAPI_ServedThroughNginx(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r := do(t, request{Method: "GET", Path: "/api/users/openapi.json"}).wantStatus(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	for _, p := range []string{"/api/users/sign-up", "/api/users/sign-in", "/api/users/sign-out", "/api/users/current-user"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	// Kratos' web hook is not public: nginx does not route it.
	if _, ok := doc.Paths["/api/users/on-sign-up"]; ok {
		t.Error("the public OpenAPI document lists the internal /api/users/on-sign-up")
	}
}
