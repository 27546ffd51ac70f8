package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

// response is an HTTP answer with its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody is the project's one JSON error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

// request describes one call; Body is JSON-encoded unless it is a string or
// []byte, which are sent as they are.
type request struct {
	Method  string
	Path    string
	Body    any
	Token   string
	Headers map[string]string
	// Base is the server to call instead of nginx, for the tests that talk
	// to a server directly (Kratos' admin API, auth's web hook).
	Base string
}

// do sends r through nginx. A 429 from the sign-up/sign-in rate limit is
// waited out (as a well-behaved client would, honouring Retry-After) unless
// the test asks for raw answers.
func do(t testing.TB, r request) response {
	t.Helper()
	for attempt := 0; ; attempt++ {
		resp := doOnce(t, r)
		if resp.Status != http.StatusTooManyRequests || attempt >= 20 {
			return resp
		}
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second / 2)
	}
}

func doOnce(t testing.TB, r request) response {
	t.Helper()
	resp, err := send(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	return resp
}

// send is doOnce for callers that handle a failure themselves: the fault
// tests' workers, which run outside the test's goroutine and count a broken
// connection rather than stop at it.
func send(r request) (response, error) {
	var body io.Reader
	contentType := ""
	switch b := r.Body.(type) {
	case nil:
	case string:
		body, contentType = strings.NewReader(b), "application/json"
	case []byte:
		body, contentType = bytes.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}
	base := r.Base
	if base == "" {
		base = baseURL()
	}
	req, err := http.NewRequest(r.Method, base+r.Path, body)
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// decode unmarshals the body into v or fails the test.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not the expected JSON (%v): %s", err, r.Body)
	}
}

// wantStatus fails the test unless the answer has status want.
func (r response) wantStatus(t testing.TB, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	return r
}

// wantError asserts status, the error code and, when field is not empty,
// that the error names that field.
func (r response) wantError(t testing.TB, status int, code, field string) errorBody {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer has Content-Type %q, want application/json; body: %s", ct, r.Body)
	}
	var e errorBody
	r.decode(t, &e)
	if e.Error.Message == "" {
		t.Errorf("error without a message: %s", r.Body)
	}
	if code != "" && e.Error.Code != code {
		t.Errorf("error code %q, want %q; body: %s", e.Error.Code, code, r.Body)
	}
	if field != "" {
		found := false
		for _, f := range e.Error.Fields {
			found = found || f.Field == field
		}
		if !found {
			t.Errorf("error does not name field %q: %s", field, r.Body)
		}
	}
	return e
}

var emailSeq atomic.Int64

// uniqueEmail returns an address no other test (or earlier run) uses.
func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%d-%d@example.com", prefix, time.Now().UnixNano(), emailSeq.Add(1))
}

// user is a signed-up account.
type user struct {
	ID       string
	Email    string
	Password string
	Token    string
}

const goodPassword = "correct-horse-battery-staple-42"

// signUp registers a new user and returns it with its session token.
func signUp(t testing.TB, prefix string) user {
	t.Helper()
	u := user{Email: uniqueEmail(prefix), Password: goodPassword}
	resp := do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]any{
		"email": u.Email, "password": u.Password,
	}}).wantStatus(t, http.StatusCreated)
	var out struct {
		User  struct{ ID, Email string }
		Token string
	}
	resp.decode(t, &out)
	if out.Token == "" || out.User.ID == "" {
		t.Fatalf("sign-up answer lacks token or user id: %s", resp.Body)
	}
	u.ID, u.Token = out.User.ID, out.Token
	return u
}

// eventually polls cond until it holds or the deadline passes; clients wait
// for eventual consistency, they do not sleep a fixed time.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
