package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// visitor is a client at its own loopback address (127.0.0.0/8 is all
// local), so that it has its own rate-limit buckets at nginx and auth. It
// keeps cookies like a browser and never follows redirects, so that tests
// see every Location. forwardedFor, when set, is sent as X-Forwarded-For: a
// proxy's claim that nginx believes only from its configured proxies.
type visitor struct {
	client       *http.Client
	forwardedFor string
}

var visitorSeq atomic.Int32

// newVisitor returns a visitor at a loopback address no other visitor of
// this run uses (127.0.1.x onwards; the tests' ordinary client is
// 127.0.0.1).
func newVisitor(t testing.TB) *visitor {
	t.Helper()
	n := visitorSeq.Add(1)
	return visitorAt(t, fmt.Sprintf("127.0.%d.%d", 1+n/250, 1+n%250))
}

// visitorAt returns a visitor whose connections come from addr.
func visitorAt(t testing.TB, addr string) *visitor {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	return &visitor{client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// send makes one request through nginx; a string body is sent as a form
// when contentType says so, anything else as JSON.
func (v *visitor) send(t testing.TB, method, path string, body any, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, contentType = strings.NewReader(string(raw)), "application/json"
	}
	req, err := http.NewRequest(method, baseURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if v.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", v.forwardedFor)
	}
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// signIn posts to auth's sign-in.
func (v *visitor) signIn(t testing.TB, email, password string) response {
	t.Helper()
	return v.send(t, "POST", "/api/users/sign-in", map[string]string{"email": email, "password": password}, nil)
}

// kratosFlow is a self-service flow as Kratos describes it.
type kratosFlow struct {
	ID string `json:"id"`
	UI struct {
		Action string `json:"action"`
		Nodes  []struct {
			Attributes struct {
				Name  string `json:"name"`
				Value any    `json:"value"`
			} `json:"attributes"`
		} `json:"nodes"`
	} `json:"ui"`
}

func (f kratosFlow) csrf() string {
	for _, n := range f.UI.Nodes {
		if n.Attributes.Name == "csrf_token" {
			s, _ := n.Attributes.Value.(string)
			return s
		}
	}
	return ""
}

// flowStyle is how a client drives a Kratos flow: an app's API flow, or a
// browser's, submitting JSON (a single-page app) or a form (a plain page).
type flowStyle string

const (
	apiFlow         flowStyle = "api"
	browserJSONFlow flowStyle = "browser-json"
	browserFormFlow flowStyle = "browser-form"
)

// startFlow begins a login or registration flow through nginx.
func (v *visitor) startFlow(t testing.TB, kind string, style flowStyle) kratosFlow {
	t.Helper()
	path := "/.ory/kratos/self-service/" + kind + "/browser"
	if style == apiFlow {
		path = "/.ory/kratos/self-service/" + kind + "/api"
	}
	resp := v.send(t, "GET", path, nil, map[string]string{"Accept": "application/json"}).wantStatus(t, http.StatusOK)
	var f kratosFlow
	resp.decode(t, &f)
	if f.ID == "" || (style != apiFlow && f.csrf() == "") {
		t.Fatalf("%s %s flow without id or CSRF token: %s", style, kind, resp.Body)
	}
	return f
}

// submit sends fields (flattened names such as "traits.email") to the
// flow, as JSON or as a form.
func (v *visitor) submit(t testing.TB, kind string, style flowStyle, f kratosFlow, fields map[string]string) response {
	t.Helper()
	path := "/.ory/kratos/self-service/" + kind + "?flow=" + f.ID
	if style == browserFormFlow {
		form := url.Values{"csrf_token": {f.csrf()}}
		for k, val := range fields {
			form.Set(k, val)
		}
		return v.send(t, "POST", path, form, map[string]string{"Accept": "text/html"})
	}
	body := map[string]any{}
	for k, val := range fields {
		setPath(body, strings.Split(k, "."), val)
	}
	if style == browserJSONFlow {
		body["csrf_token"] = f.csrf()
	}
	return v.send(t, "POST", path, body, map[string]string{"Accept": "application/json"})
}

func setPath(m map[string]any, path []string, val string) {
	if len(path) == 1 {
		m[path[0]] = val
		return
	}
	sub, ok := m[path[0]].(map[string]any)
	if !ok {
		sub = map[string]any{}
		m[path[0]] = sub
	}
	setPath(sub, path[1:], val)
}

// kratosLogin runs a whole login through nginx.
func (v *visitor) kratosLogin(t testing.TB, style flowStyle, email, password string) response {
	t.Helper()
	f := v.startFlow(t, "login", style)
	return v.submit(t, "login", style, f, map[string]string{"method": "password", "identifier": email, "password": password})
}

// signedInByKratos says whether a login answer started a session: 200 for
// JSON clients, a redirect setting the session cookie for a form.
func signedInByKratos(style flowStyle, r response) bool {
	if style == browserFormFlow {
		return r.Status == http.StatusSeeOther && strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "ory_kratos_session=")
	}
	return r.Status == http.StatusOK
}

// want429 asserts a rate-limit refusal: 429, code rate_limited, a
// Retry-After of whole seconds ≥ 1.
func want429(t testing.TB, r response) {
	t.Helper()
	r.wantError(t, http.StatusTooManyRequests, "rate_limited", "")
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("429 with Retry-After %q, want whole seconds ≥ 1", r.Header.Get("Retry-After"))
	}
}

// wrongPasswords is how many wrong passwords the attacker sends: more than
// the test profile's free failures per account and address (3), fewer than
// its free failures per account alone (20).
const wrongPasswords = 10

// attack sends wrongPasswords wrong passwords for email through try and
// counts the answers by status; every answer is a refusal of the password
// (wrongStatus) or a 429.
func attack(t *testing.T, path string, wrongStatus int, try func(i int) response) (refused int) {
	t.Helper()
	codes := map[int]int{}
	var last429 response
	for i := range wrongPasswords {
		r := try(i)
		codes[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			last429 = r
		} else if r.Status != wrongStatus {
			t.Fatalf("%s: wrong password %d answered %d, want %d or 429: %s", path, i+1, r.Status, wrongStatus, r.Body)
		}
	}
	t.Logf("%s: %d wrong passwords for one account from one address → %v", path, wrongPasswords, codes)
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("%s: %d wrong passwords for one account were never slowed down: %v", path, wrongPasswords, codes)
	}
	want429(t, last429)
	return codes[http.StatusTooManyRequests]
}

func TestSignIn_RateLimitedPerAccount(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "owner")
	attacker := newVisitor(t)
	attack(t, "/api/users/sign-in", http.StatusBadRequest, func(int) response {
		return attacker.signIn(t, owner.Email, "not-the-password")
	})
	// The attacker's address is backed off for this account, even with the
	// right password…
	want429(t, attacker.signIn(t, owner.Email, owner.Password))
	// …but the owner, elsewhere, is not locked out.
	newVisitor(t).signIn(t, owner.Email, owner.Password).wantStatus(t, http.StatusOK)
	// Nor is another account at the attacker's address.
	other := signUp(t, "other")
	attacker.signIn(t, other.Email, other.Password).wantStatus(t, http.StatusOK)
}

func TestKratosLogin_RateLimitedPerAccount(t *testing.T) {
	t.Parallel()
	for _, style := range []flowStyle{apiFlow, browserJSONFlow, browserFormFlow} {
		t.Run(string(style), func(t *testing.T) {
			t.Parallel()
			owner := signUp(t, "kratos-owner")
			attacker := newVisitor(t)
			wrong := http.StatusBadRequest
			if style == browserFormFlow {
				wrong = http.StatusSeeOther // back to the login page, no session
			}
			attack(t, "/.ory/kratos/self-service/login ("+string(style)+")", wrong, func(int) response {
				r := attacker.kratosLogin(t, style, owner.Email, "not-the-password")
				if signedInByKratos(style, r) {
					t.Fatalf("a wrong password signed in: %d %s", r.Status, r.Body)
				}
				return r
			})
			want429(t, attacker.kratosLogin(t, style, owner.Email, owner.Password))
			r := newVisitor(t).kratosLogin(t, style, owner.Email, owner.Password)
			if !signedInByKratos(style, r) {
				t.Fatalf("the owner, at another address, could not sign in: %d %s", r.Status, r.Body)
			}
		})
	}
}

// The backoff of one address for an account survives the attacker
// switching between auth's sign-in and Kratos' login: both are one door.
func TestSignIn_BackoffSharedAcrossPasswordPaths(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "shared")
	attacker := newVisitor(t)
	attack(t, "sign-in and Kratos login, alternating", http.StatusBadRequest, func(i int) response {
		if i%2 == 0 {
			return attacker.signIn(t, owner.Email, "not-the-password")
		}
		return attacker.kratosLogin(t, apiFlow, owner.Email, "not-the-password")
	})
}

func TestKratosRegistration_RateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	v := newVisitor(t)
	const attempts = 120
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		codes  = map[int]int{}
		one429 response
	)
	f := v.startFlow(t, "registration", apiFlow)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Too short a password: Kratos refuses it cheaply, and auth
			// counts the attempt all the same.
			r := v.submit(t, "registration", apiFlow, f, map[string]string{
				"method": "password", "password": "short", "traits.email": fmt.Sprintf("reg%d-%s", i, uniqueEmail("burst")),
			})
			mu.Lock()
			defer mu.Unlock()
			codes[r.Status]++
			if r.Status == http.StatusTooManyRequests {
				one429 = r
			}
		}()
	}
	wg.Wait()
	t.Logf("%d registrations at once from one address → %v", attempts, codes)
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("%d registrations at once from one address were never rate limited: %v", attempts, codes)
	}
	want429(t, one429)
}

// TestClientAddress_ForwardedForBelievedOnlyFromTrustedProxies: the test
// profile trusts 127.0.0.1 as a proxy (NGINX_TRUSTED_PROXIES), nobody else.
func TestClientAddress_ForwardedForBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "spoof")
	attacker := newVisitor(t)
	// A different X-Forwarded-For and X-Real-IP on every try, from an
	// address that is no proxy: all one bucket.
	attack(t, "/api/users/sign-in with forged X-Forwarded-For", http.StatusBadRequest, func(i int) response {
		attacker.forwardedFor = fmt.Sprintf("10.9.%d.%d", i/200, 1+i%200)
		return attacker.send(t, "POST", "/api/users/sign-in",
			map[string]string{"email": owner.Email, "password": "not-the-password"},
			map[string]string{"X-Real-IP": attacker.forwardedFor})
	})
	// The trusted proxy speaks for another client: a bucket of its own.
	proxy := visitorAt(t, "127.0.0.1")
	proxy.forwardedFor = "10.8.0.1"
	proxy.signIn(t, owner.Email, owner.Password).wantStatus(t, http.StatusOK)
}

// TestKratosPublicAPI_OnlyBrowserAndAppEndpointsExposed: admin, identity,
// schema, health and metrics endpoints are not reachable through nginx, and
// no answer points at an internal address.
func TestKratosPublicAPI_OnlyBrowserAndAppEndpointsExposed(t *testing.T) {
	t.Parallel()
	v := newVisitor(t)
	for _, p := range []string{
		"/.ory/kratos/admin/identities",
		"/.ory/kratos/admin/sessions",
		"/.ory/kratos/identities",
		"/.ory/kratos/schemas",
		"/.ory/kratos/schemas/default",
		"/.ory/kratos/health/ready",
		"/.ory/kratos/health/alive",
		"/.ory/kratos/version",
		"/.ory/kratos/metrics/prometheus",
		"/.ory/kratos/sessions",
		"/.ory/kratos/self-service/login/flows/../../../admin/identities",
		"/.ory/kratos/%2e%2e/admin/identities",
		"/.ory/kratos//admin/identities",
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			r := v.send(t, method, p, nil, map[string]string{"Accept": "application/json"})
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("%s %s: redirect to %q", method, p, loc)
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404; body: %.200s", method, p, r.Status, r.Body)
				continue
			}
			r.wantError(t, http.StatusNotFound, "not_found", "")
		}
	}
}

// TestKratosBrowserFlows_RedirectOnlyToPublicURL: every redirect of the
// browser flows, through nginx, stays on the public URL.
func TestKratosBrowserFlows_RedirectOnlyToPublicURL(t *testing.T) {
	t.Parallel()
	v := newVisitor(t)
	for _, p := range []string{
		"/.ory/kratos/self-service/login/browser",
		"/.ory/kratos/self-service/registration/browser",
		"/.ory/kratos/self-service/settings/browser",
		"/.ory/kratos/self-service/recovery/browser",
		"/.ory/kratos/self-service/verification/browser",
		"/.ory/kratos/self-service/logout/browser",
	} {
		r := v.send(t, "GET", p, nil, map[string]string{"Accept": "text/html"})
		loc := r.Header.Get("Location")
		if r.Status >= 300 && r.Status < 400 && !strings.HasPrefix(loc, baseURL()+"/") {
			t.Errorf("GET %s: %d redirect to %q, want one under %s", p, r.Status, loc, baseURL())
		}
		if r.Status >= 500 {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Body)
		}
	}
}

// TestKratosBrowserJourney_ThroughAuthPassThrough: a plain web page (forms,
// cookies, CSRF tokens, redirects) registers, sees its session, opens the
// settings and signs out through /.ory/kratos/.
func TestKratosBrowserJourney_ThroughPassThrough(t *testing.T) {
	t.Parallel()
	b := newVisitor(t)
	email := uniqueEmail("journey")
	f := b.startFlow(t, "registration", browserFormFlow)
	r := b.submit(t, "registration", browserFormFlow, f, map[string]string{
		"method": "password", "password": goodPassword, "traits.email": email,
	})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), baseURL()+"/") {
		t.Fatalf("registration form: %d to %q, want 303 to the public URL; body %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	var who struct {
		Identity struct {
			Traits struct{ Email string } `json:"traits"`
		} `json:"identity"`
	}
	b.send(t, "GET", "/.ory/kratos/sessions/whoami", nil, nil).wantStatus(t, http.StatusOK).decode(t, &who)
	if who.Identity.Traits.Email != email {
		t.Fatalf("whoami says %q, want %q", who.Identity.Traits.Email, email)
	}
	settings := b.send(t, "GET", "/.ory/kratos/self-service/settings/browser", nil, map[string]string{"Accept": "application/json"}).
		wantStatus(t, http.StatusOK)
	var sf kratosFlow
	settings.decode(t, &sf)
	if sf.ID == "" {
		t.Fatalf("settings flow without id: %s", settings.Body)
	}
	var logout struct {
		URL string `json:"logout_url"`
	}
	b.send(t, "GET", "/.ory/kratos/self-service/logout/browser", nil, nil).wantStatus(t, http.StatusOK).decode(t, &logout)
	if !strings.HasPrefix(logout.URL, baseURL()+"/.ory/kratos/") {
		t.Fatalf("logout_url %q is not under the public URL", logout.URL)
	}
	r = b.send(t, "GET", strings.TrimPrefix(logout.URL, baseURL()), nil, nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d, want 303; body %s", r.Status, r.Body)
	}
	b.send(t, "GET", "/.ory/kratos/sessions/whoami", nil, nil).wantStatus(t, http.StatusUnauthorized)
}

// TestKratosRegistration_PasswordRuleOfAuth: registration and settings
// through Kratos pass auth's password rule (the same as sign-up's), refused
// in the project's error shape naming the field.
func TestKratosRegistration_PasswordRuleOfAuth(t *testing.T) {
	t.Parallel()
	v := newVisitor(t)
	tooLong := strings.Repeat("ü", 40) // 40 characters, 80 bytes: past bcrypt's 72
	for _, style := range []flowStyle{apiFlow, browserJSONFlow, browserFormFlow} {
		f := v.startFlow(t, "registration", style)
		r := v.submit(t, "registration", style, f, map[string]string{
			"method": "password", "password": tooLong, "traits.email": uniqueEmail("rule"),
		})
		r.wantError(t, http.StatusBadRequest, "validation_failed", "password")
	}
}

func TestOnSignUpWebhook_NotRoutedByNginx(t *testing.T) {
	t.Parallel()
	key := stackEnv["TEST_AUTH_WEBHOOK_API_KEY"]
	body := map[string]any{"identity": map[string]any{"id": "0b5e7c1e-5a5e-4c1e-9d7e-000000000001", "traits": map[string]any{"email": uniqueEmail("hook")}}}
	for _, path := range []string{"/api/users/on-sign-up", "/api/users/on-sign-up/", "/api/users//on-sign-up", "/api/users/./on-sign-up"} {
		doOnce(t, request{Method: "POST", Path: path, Body: body, Headers: map[string]string{"X-Ory-API-Key": key}}).
			wantError(t, http.StatusNotFound, "not_found", "")
	}
}

// TestRegistration_RateLimitedPerAccount: registrations naming one email,
// from many addresses and through every registration path, are limited per
// account (the test profile's AUTH_IDENTIFIER_RATE is 20 a minute): a
// probe of whether an email is registered, or a flood of mail to it, cannot
// go on.
func TestRegistration_RateLimitedPerAccount(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "probed")
	const attempts = 30
	codes := map[int]int{}
	var last429 response
	paths := []string{"/api/users/sign-up", "api", "browser-json", "browser-form"}
	for i := range attempts {
		v := newVisitor(t) // a new address each time: only the account is common
		var r response
		switch style := paths[i%len(paths)]; style {
		case "/api/users/sign-up":
			r = v.send(t, "POST", style, map[string]string{"email": owner.Email, "password": goodPassword}, nil)
		default:
			f := v.startFlow(t, "registration", flowStyle(style))
			r = v.submit(t, "registration", flowStyle(style), f, map[string]string{
				"method": "password", "password": goodPassword, "traits.email": owner.Email,
			})
		}
		codes[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			last429 = r
		}
	}
	t.Logf("%d registrations of one taken email from %d addresses → %v", attempts, attempts, codes)
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("%d registrations of one email were never rate limited: %v", attempts, codes)
	}
	want429(t, last429)
	if codes[http.StatusCreated]+codes[http.StatusOK] != 0 {
		t.Fatalf("a taken email was registered again: %v", codes)
	}
}
