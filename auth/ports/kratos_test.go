package ports_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ticketing/ticketing/auth/app/apptest"
	"github.com/ticketing/ticketing/auth/ports"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

// upstream stands in for Kratos' public API in these unit tests of the
// pass-through (the e2e tests run it against the real Kratos): it records
// what reached it and redirects /redirect to its own address.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	got  []string
	body []string
	ct   [][]string // the Content-Type lines of each request
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, r.Method+" "+r.URL.RequestURI())
		u.body = append(u.body, string(b))
		u.ct = append(u.ct, r.Header.Values("Content-Type"))
		u.mu.Unlock()
		if r.URL.Path == "/self-service/login/browser" {
			http.Redirect(w, r, u.URL+"/self-service/errors?id=1", http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(u.Close)
	return u
}

// passThrough serves the pass-through on a real server (ReverseProxy needs
// a real connection's writer) and calls it without following redirects.
type passThrough struct{ url string }

func newPassThrough(t *testing.T, u *upstream) passThrough {
	t.Helper()
	k, err := ports.NewKratosPassThrough(u.URL, "https://tickets.example", http.DefaultTransport, apptest.Unlimited())
	if err != nil {
		t.Fatal(err)
	}
	e := httpserver.New(slog.New(slog.DiscardHandler))
	k.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return passThrough{url: srv.URL}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (p passThrough) call(t *testing.T, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestKratosPassThrough_ForwardsOnlyListedEndpoints(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	h := newPassThrough(t, u)
	tests := []struct {
		method, path string
		forwarded    string // what Kratos sees; "" when refused with 404
	}{
		{"GET", "/.ory/kratos/self-service/login/api", "GET /self-service/login/api"},
		{"GET", "/.ory/kratos/self-service/registration/flows?id=x", "GET /self-service/registration/flows?id=x"},
		{"GET", "/.ory/kratos/sessions/whoami", "GET /sessions/whoami"},
		{"DELETE", "/.ory/kratos/self-service/logout/api", "DELETE /self-service/logout/api"},
		{"GET", "/.ory/kratos/self-service/verification?flow=f&code=1", "GET /self-service/verification?flow=f&code=1"},
		{"GET", "/.ory/kratos/admin/identities", ""},
		{"GET", "/.ory/kratos/identities", ""},
		{"GET", "/.ory/kratos/schemas", ""},
		{"GET", "/.ory/kratos/schemas/default", ""},
		{"GET", "/.ory/kratos/sessions", ""},
		{"DELETE", "/.ory/kratos/sessions/whoami", ""},
		{"GET", "/.ory/kratos/health/ready", ""},
		{"GET", "/.ory/kratos/self-service/login/api/../../../admin/identities", ""},
		{"GET", "/.ory/kratos//sessions/whoami", ""},
		{"POST", "/.ory/kratos/self-service/logout/browser", ""},
	}
	for _, tt := range tests {
		u.mu.Lock()
		before := len(u.got)
		u.mu.Unlock()
		resp, body := h.call(t, tt.method, tt.path, "", "")
		u.mu.Lock()
		got := u.got[before:]
		u.mu.Unlock()
		if tt.forwarded == "" {
			if resp.StatusCode != http.StatusNotFound || len(got) != 0 || !strings.Contains(body, `"not_found"`) {
				t.Errorf("%s %s: %d %s, forwarded %v; want 404 not_found, nothing forwarded", tt.method, tt.path, resp.StatusCode, body, got)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != tt.forwarded {
			t.Errorf("%s %s: %d, forwarded %v; want 200 and %q", tt.method, tt.path, resp.StatusCode, got, tt.forwarded)
		}
	}
}

func TestKratosPassThrough_RewritesRedirectsToInternalAddress(t *testing.T) {
	t.Parallel()
	h := newPassThrough(t, newUpstream(t))
	resp, _ := h.call(t, "GET", "/.ory/kratos/self-service/login/browser", "", "")
	if got, want := resp.Header.Get("Location"), "https://tickets.example/.ory/kratos/self-service/errors?id=1"; got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
}

func TestKratosPassThrough_ReadsSubmissions(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	h := newPassThrough(t, u)
	const form, js = "application/x-www-form-urlencoded", "application/json"
	tests := []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantCode, wantField           string
	}{
		{"login JSON", "login", js, `{"method":"password","identifier":"a@example.com","password":"x"}`, 200, "", ""},
		{"login form", "login", form, "method=password&identifier=a%40example.com&password=x", 200, "", ""},
		{"registration too long a password", "registration", js, `{"method":"password","password":"` + strings.Repeat("ü", 40) + `","traits":{"email":"a@example.com"}}`, 400, "validation_failed", "password"},
		{"registration form too short", "registration", form, "method=password&password=short&traits.email=a%40example.com", 400, "validation_failed", "password"},
		{"registration good password", "registration", js, `{"method":"password","password":"correct-horse-battery","traits":{"email":"a@example.com"}}`, 200, "", ""},
		{"settings password, letter case of the key", "settings", js, `{"method":"password","Password":"short"}`, 400, "validation_failed", "password"},
		{"settings other method", "settings", js, `{"method":"profile","traits":{"email":"a@example.com"}}`, 200, "", ""},
		{"login two identifiers", "login", js, `{"method":"password","identifier":"a@example.com","Identifier":"b@example.com","password":"x"}`, 400, "validation_failed", "identifier"},
		{"login duplicate key", "login", js, `{"identifier":"a@example.com","identifier":"b@example.com"}`, 400, "validation_failed", "identifier"},
		{"registration form field twice", "registration", form, "method=password&password=correct-horse-battery&traits.email=a%40example.com&traits.email=b%40example.com", 400, "validation_failed", "traits.email"},
		{"malformed JSON", "login", js, `{"identifier":`, 400, "malformed_json", ""},
		{"trailing JSON", "login", js, `{"identifier":"a@example.com"} {}`, 400, "malformed_json", ""},
		{"multipart", "login", "multipart/form-data; boundary=x", "--x--", 415, "unsupported_media_type", ""},
		{"no content type", "login", "", `{}`, 415, "unsupported_media_type", ""},
		{"too large", "recovery", js, `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large", ""},
		{"login legacy identifier", "login", js, `{"method":"password","password_identifier":"a@example.com","password":"x"}`, 200, "", ""},
		{"login both identifiers, one account", "login", js, `{"method":"password","identifier":"A@example.com ","password_identifier":"a@example.com","password":"x"}`, 200, "", ""},
		{"login identifiers disagree", "login", js, `{"method":"password","identifier":"a@example.com","password_identifier":"b@example.com","password":"x"}`, 400, "validation_failed", "password_identifier"},
		{"login names no account", "login", js, `{"method":"password","password":"x"}`, 400, "validation_failed", "identifier"},
		{"login password without method names no account", "login", form, "password=x", 400, "validation_failed", "identifier"},
		{"login without a password", "login", js, `{"method":"oidc","provider":"x"}`, 200, "", ""},
		{"login identifier a number", "login", js, `{"method":"password","identifier":12345,"password":"x"}`, 400, "validation_failed", "identifier"},
		{"login identifier null", "login", js, `{"method":"password","identifier":null,"password_identifier":"a@example.com","password":"x"}`, 400, "validation_failed", "identifier"},
		{"login identifier not UTF-8", "login", js, "{\"method\":\"password\",\"identifier\":\"a\xff@example.com\",\"password\":\"x\"}", 400, "validation_failed", "identifier"},
		{"login form identifier in another letter case", "login", form, "method=password&Identifier=a%40example.com&password=x", 400, "validation_failed", "identifier"},
		{"login form blank first identifier", "login", form, "method=password&identifier=&identifier=a%40example.com&password=x", 400, "validation_failed", "identifier"},
		{"registration password a number", "registration", js, `{"method":"password","password":12345678e0,"traits":{"email":"a@example.com"}}`, 400, "validation_failed", "password"},
		{"registration traits a string", "registration", js, `{"method":"password","password":"correct-horse-battery","traits":"{\"email\":\"a@example.com\"}"}`, 400, "validation_failed", "traits"},
		{"registration both email spellings disagree", "registration", js, `{"method":"password","password":"correct-horse-battery","traits":{"email":"a@example.com"},"traits.email":"b@example.com"}`, 400, "validation_failed", "traits.email"},
		{"registration names no account", "registration", js, `{"method":"password","password":"correct-horse-battery","traits":{}}`, 400, "validation_failed", "traits.email"},
		{"registration form traits whole", "registration", form, "method=password&password=correct-horse-battery&traits=%7B%22email%22%3A%22a%40example.com%22%7D", 400, "validation_failed", "traits"},
		{"registration common password, method in another case", "registration", form, "method=Password&password=password1234&traits.email=a%40example.com", 400, "validation_failed", "password"},
		{"settings password a number", "settings", js, `{"method":"password","password":12345678e0}`, 400, "validation_failed", "password"},
		{"JSON with a byte order mark", "login", js, "\ufeff{}", 400, "malformed_json", ""},
		{"JSON not an object", "login", js, `[{"identifier":"a@example.com"}]`, 400, "malformed_json", ""},
		{"a form and JSON in one header", "login", "application/x-www-form-urlencoded; a=b,application/json", `{"method":"password","identifier":"a@example.com","password":"x"}`, 415, "unsupported_media_type", ""},
		{"a charset other than UTF-8", "login", "application/json; charset=iso-8859-1", `{}`, 415, "unsupported_media_type", ""},
		{"unparseable parameters", "login", "application/json; charset", `{}`, 415, "unsupported_media_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := h.call(t, "POST", "/.ory/kratos/self-service/"+tt.path+"?flow=f", tt.contentType, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusOK {
				u.mu.Lock()
				defer u.mu.Unlock()
				for _, b := range u.body {
					if b == tt.body {
						return // Kratos got the body unchanged
					}
				}
				t.Fatalf("Kratos did not get the body %q", tt.body)
			}
			var e struct {
				Error struct {
					Code   string
					Fields []struct{ Field string }
				}
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != tt.wantCode {
				t.Fatalf("body %s, want code %q", body, tt.wantCode)
			}
			if tt.wantField != "" && (len(e.Error.Fields) == 0 || e.Error.Fields[0].Field != tt.wantField) {
				t.Fatalf("body %s, want field %q", body, tt.wantField)
			}
		})
	}
}

// TestKratosPassThrough_ForwardsTheCheckedContentType: Kratos gets the one
// media type the pass-through read the body as, whatever spelling and
// parameters the client used.
func TestKratosPassThrough_ForwardsTheCheckedContentType(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	h := newPassThrough(t, u)
	tests := []struct{ sent, body, want string }{
		{"Application/JSON; charset=UTF-8", `{"method":"password","identifier":"ct1@example.com","password":"x"}`, "application/json"},
		{"application/x-www-form-urlencoded; charset=utf-8", "method=password&identifier=ct2%40example.com&password=x", "application/x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		resp, body := h.call(t, "POST", "/.ory/kratos/self-service/login?flow=f", tt.sent, tt.body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d, want 200; body %s", tt.sent, resp.StatusCode, body)
		}
		u.mu.Lock()
		i := slices.Index(u.body, tt.body)
		var got []string
		if i >= 0 {
			got = u.ct[i]
		}
		u.mu.Unlock()
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("sent %q, Kratos got Content-Type %q; want exactly %q", tt.sent, got, tt.want)
		}
	}
}

// TestKratosPassThrough_RefusesReadFieldsInTheQuery: Kratos' recovery and
// verification read the query string as well as the body, so a field the
// pass-through reads in the body may not come in the query.
func TestKratosPassThrough_RefusesReadFieldsInTheQuery(t *testing.T) {
	t.Parallel()
	h := newPassThrough(t, newUpstream(t))
	for _, path := range []string{
		"/.ory/kratos/self-service/recovery?flow=f&email=a%40example.com",
		"/.ory/kratos/self-service/verification?flow=f&Email=a%40example.com",
		"/.ory/kratos/self-service/login?flow=f&identifier=a%40example.com",
	} {
		resp, body := h.call(t, "POST", path, "application/json", `{"method":"code"}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"validation_failed"`) {
			t.Errorf("POST %s: %d %s; want 400 validation_failed", path, resp.StatusCode, body)
		}
	}
}
