package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// dialNginx opens a raw connection to nginx with a 10 s deadline, closed
// when the test ends.
func dialNginx(t *testing.T) net.Conn {
	t.Helper()
	u, err := url.Parse(baseURL())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// rawExchange writes payload, byte for byte, on a new connection to nginx
// and reads one answer: the requests below are ones Go's client refuses to
// send. method is the request's method, which decides whether the answer
// has a body.
func rawExchange(t *testing.T, method string, payload []byte) response {
	t.Helper()
	conn := dialNginx(t)
	if _, err := conn.Write(payload); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("nginx sent no HTTP answer to %.60q: %v", payload, err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(body.String())}
}

// TestNginx_MalformedRequestsAnswerJSON: whatever nginx refuses on its own,
// before any service sees the request, it answers with the JSON error shape
// and the status that names the fault (never a 500, never an HTML page).
func TestNginx_MalformedRequestsAnswerJSON(t *testing.T) {
	t.Parallel()
	host := "Host: ticketing.test\r\n"
	manyHeaders := ""
	for i := 0; i < 40; i++ {
		manyHeaders += "X-Filler-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": " + strings.Repeat("f", 1000) + "\r\n"
	}
	cases := []struct {
		name    string
		method  string
		payload string
		status  int
		code    string
	}{
		{"URI too long", "GET", "GET /api/tickets/" + strings.Repeat("a", 20000) + " HTTP/1.1\r\n" + host + "\r\n", 414, "uri_too_long"},
		{"request line is not HTTP", "GET", "GARBAGE\r\n\r\n", 400, "bad_request"},
		{"lower-case method", "GET", "get /api/tickets HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
		{"NUL byte in the path", "GET", "GET /api/tick\x00ets HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
		{"encoded NUL in the path", "GET", "GET /api/tickets/%00 HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
		{"path escaping the root", "GET", "GET /../../etc/passwd HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
		{"HTTP/2 preface on HTTP/1", "GET", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "bad_request"},
		{"CONNECT", "GET", "CONNECT ticketing.test:443 HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
		{"unsupported HTTP version", "GET", "GET /api/tickets HTTP/9.9\r\n" + host + "\r\n", 505, "http_version_not_supported"},
		{"one header too large", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("b", 20000) + "\r\n\r\n", 431, "headers_too_large"},
		{"cookie too large", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + "Cookie: c=" + strings.Repeat("c", 9000) + "\r\n\r\n", 431, "headers_too_large"},
		{"too many header bytes", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + manyHeaders + "\r\n", 431, "headers_too_large"},
		{"unknown method", "FOO", "FOO /api/tickets HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", 501, "not_implemented"},
		{"unknown method on an unknown path", "PROPFIND", "PROPFIND /nowhere HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", 501, "not_implemented"},
		{"unknown transfer coding", "POST", "POST /api/tickets HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"},
		{"malformed chunked body", "POST", "POST /api/tickets HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n", 400, "bad_request"},
		{"two Host headers", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + host + "\r\n", 400, "bad_request"},
		{"header name with a space", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + "Bad Header: x\r\n\r\n", 400, "bad_request"},
		{"no Host on HTTP/1.1", "GET", "GET /api/tickets HTTP/1.1\r\n\r\n", 400, "bad_request"},
		{"Host with a slash", "GET", "GET /api/tickets HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "bad_request"},
		{"folded header line", "GET", "GET /api/tickets HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\n\r\n", 400, "bad_request"},
		{"two Content-Lengths", "POST", "POST /api/tickets HTTP/1.1\r\n" + host + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "bad_request"},
		{"Content-Length and chunked", "POST", "POST /api/tickets HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400, "bad_request"},
		{"chunked on HTTP/1.0", "POST", "POST /api/tickets HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"},
		{"Content-Length past 64 bits", "POST", "POST /api/tickets HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n", 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rawExchange(t, tc.method, []byte(tc.payload))
			r.wantError(t, tc.status, tc.code, "")
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("nginx's error answer lacks its security headers: %v", r.Header)
			}
		})
	}
}

// TestNginx_HTTP09IsRefusedWithoutAnAnswer: an HTTP/0.9 request (a request
// line without a version) cannot be given a status line or headers, so
// nginx closes the connection without answering rather than serving the
// API's data as a bare body. HTTP/1.0 and 1.1 are the versions served.
func TestNginx_HTTP09IsRefusedWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"GET /api/tickets\r\n\r\n", "GET /healthz\r\n\r\n", "GET /nowhere\r\n\r\n",
		// Refused by nginx while parsing (no POST or unknown method on 0.9,
		// an encoded NUL): its error page would be a bare body too.
		"POST /api/tickets\r\n\r\n", "FOO /api/tickets\r\n\r\n", "GET /api/tickets/%00\r\n\r\n"} {
		t.Run(strings.TrimSpace(payload), func(t *testing.T) {
			t.Parallel()
			conn := dialNginx(t)
			if _, err := conn.Write([]byte(payload)); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(conn)
			if err != nil {
				t.Fatalf("nginx neither answered nor closed: %v (read %q)", err, got)
			}
			if len(got) != 0 {
				t.Fatalf("HTTP/0.9 request answered with %q, want the connection closed without an answer", got)
			}
		})
	}
}

// TestNginx_PrefixWithoutTrailingSlashAnswersJSON: nginx answers a path
// equal to a proxied prefix without its trailing slash with its own 301 and
// an HTML page unless told otherwise; every such path, and its neighbours
// under each API prefix, gets the project's JSON 404 and no Location.
func TestNginx_PrefixWithoutTrailingSlashAnswersJSON(t *testing.T) {
	t.Parallel()
	paths := []string{
		"/.ory/kratos", "/.ory/kratos?return_to=/x", "/.ory//kratos", "/.ory/kratos/", "/.ory/kratosx", "/.ory", "/.ory/",
		"/api", "/api/", "/api/users", "/api/users/", "/api/usersx", "/api/tickets/", "/api/ticketsx",
		"/api/orders/", "/api/ordersx", "/api/payments/", "/api/paymentsx", "/healthz/", "/api/users/healthz/",
	}
	for _, path := range paths {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequest(method, baseURL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				r := sendWith(t, noRedirects, req)
				if loc := r.Header.Get("Location"); loc != "" {
					t.Fatalf("redirected to %q", loc)
				}
				r.wantError(t, http.StatusNotFound, "not_found", "")
			})
		}
	}
}
