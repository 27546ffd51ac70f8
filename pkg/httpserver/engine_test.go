package httpserver_test

import (
	"bytes"
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
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
)

func discardLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// syncBuffer is a log sink safe for the concurrent writes of a server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestEngine_AnswersInTheErrorShape(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger())
	e.GET("/thing", func(c *gin.Context) { c.Status(http.StatusOK) })
	e.GET("/panic", func(*gin.Context) { panic("boom: secret detail") })
	e.GET("/plain-error", func(c *gin.Context) { httpserver.WriteError(c, errors.New("db password wrong")) })
	e.GET("/unavailable", func(c *gin.Context) {
		httpserver.WriteError(c, apierr.Unavailable("Kratos", errors.New("dial refused")))
	})
	e.GET("/conflict", func(c *gin.Context) {
		httpserver.WriteError(c, apierr.Conflict("reserved", "the ticket is reserved"))
	})
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCode   string
	}{
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "not_found"},
		{"wrong method", http.MethodDelete, "/thing", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"panic", http.MethodGet, "/panic", http.StatusInternalServerError, "internal"},
		{"plain error", http.MethodGet, "/plain-error", http.StatusInternalServerError, "internal"},
		{"api error", http.MethodGet, "/conflict", http.StatusConflict, "reserved"},
		{"dependency down", http.MethodGet, "/unavailable", http.StatusServiceUnavailable, "dependency_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			body := decodeError(t, rec)
			if body.Error.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", body.Error.Code, tt.wantCode)
			}
			if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "password") ||
				strings.Contains(rec.Body.String(), "refused") {
				t.Errorf("internal text leaked: %s", rec.Body)
			}
		})
	}
}

func TestEngine_RequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		incoming string
		wantSame bool
	}{
		{"nginx id is kept", "0123456789abcdef0123456789abcdef", true},
		{"uuid is kept", "3f8a1f5e-7c1b-4f8e-9a51-0c2f6f3b9d11", true},
		{"missing is generated", "", false},
		{"log injection is replaced", "abc\ninjected", false},
		{"too long is replaced", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen string
			e := httpserver.New(discardLogger())
			e.GET("/id", func(c *gin.Context) { seen = logging.RequestID(c.Request.Context()) })
			req := httptest.NewRequest(http.MethodGet, "/id", nil)
			if tt.incoming != "" {
				req.Header[httpserver.RequestIDHeader] = []string{tt.incoming}
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			echoed := rec.Header().Get(httpserver.RequestIDHeader)
			if echoed == "" || echoed != seen {
				t.Fatalf("echoed %q, handler saw %q", echoed, seen)
			}
			if (echoed == tt.incoming) != tt.wantSame {
				t.Errorf("echoed %q for incoming %q", echoed, tt.incoming)
			}
			if !tt.wantSame && len(echoed) != 32 {
				t.Errorf("generated id %q is not 32 hex digits", echoed)
			}
		})
	}
}

func TestEngine_AccessLogCarriesRequestIDAndErrorsAreLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := httpserver.New(logging.New(&logs, "test", slog.LevelInfo))
	e.GET("/fail", func(c *gin.Context) { httpserver.WriteError(c, errors.New("disk on fire")) })
	req := httptest.NewRequest(http.MethodGet, "/fail", nil)
	req.Header.Set(httpserver.RequestIDHeader, "req-1")
	e.ServeHTTP(httptest.NewRecorder(), req)

	var sawAccess, sawCause bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if entry["request_id"] != "req-1" {
			t.Errorf("log line without the request id: %s", line)
		}
		sawAccess = sawAccess || (entry["msg"] == "request" && entry["status"] == float64(500) && entry["route"] == "/fail")
		sawCause = sawCause || strings.Contains(line, "disk on fire")
	}
	if !sawAccess || !sawCause {
		t.Errorf("want an access line and the logged cause, got:\n%s", logs.String())
	}
}

func TestHealthz_AlwaysOK(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger(), httpserver.Check{Name: "db", Run: func(context.Context) error {
		return errors.New("down")
	}})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200 even when a dependency is down", rec.Code)
	}
}

func TestReadyz_RunsChecks(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("connection refused") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     []httpserver.Check
		wantStatus int
		wantBody   string
	}{
		{"no checks", nil, http.StatusOK, `{"status":"ok","checks":{}}`},
		{
			"all pass",
			[]httpserver.Check{{Name: "mongo", Run: ok}, {Name: "kratos", Run: ok}},
			http.StatusOK, `{"status":"ok","checks":{"kratos":"ok","mongo":"ok"}}`,
		},
		{
			"one fails",
			[]httpserver.Check{{Name: "mongo", Run: ok}, {Name: "kratos", Run: fail}},
			http.StatusServiceUnavailable, `{"status":"unavailable","checks":{"kratos":"failed","mongo":"ok"}}`,
		},
		{
			"a described check shows its state",
			[]httpserver.Check{{Name: "queue", Describe: func(context.Context) (any, error) { return map[string]int{"scheduled": 3}, nil }}},
			http.StatusOK, `{"status":"ok","checks":{"queue":"ok"},"details":{"queue":{"scheduled":3}}}`,
		},
		{
			"one hangs and times out",
			[]httpserver.Check{{Name: "mongo", Run: hang}},
			http.StatusServiceUnavailable, `{"status":"unavailable","checks":{"mongo":"failed"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := httpserver.New(discardLogger(), tt.checks...)
			rec := httptest.NewRecorder()
			start := time.Now()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if elapsed := time.Since(start); elapsed > httpserver.CheckTimeout+time.Second {
				t.Errorf("readyz took %s", elapsed)
			}
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestWriteError_RateLimitedCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger())
	e.GET("/limited/:ms", func(c *gin.Context) {
		d, _ := time.ParseDuration(c.Param("ms") + "ms")
		httpserver.WriteError(c, apierr.RateLimitedFor("slow down", d))
	})
	tests := []struct {
		ms   string
		want string
	}{
		{"0", "1"},
		{"1", "1"},
		{"1000", "1"},
		{"1001", "2"},
		{"900000", "900"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/limited/"+tt.ms, nil))
		if rec.Code != http.StatusTooManyRequests || decodeError(t, rec).Error.Code != "rate_limited" {
			t.Fatalf("%sms: %d %s, want 429 rate_limited", tt.ms, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Retry-After"); got != tt.want {
			t.Errorf("%sms: Retry-After %q, want %q", tt.ms, got, tt.want)
		}
	}
}

// The client address is nginx's X-Real-IP when nginx (a private address)
// sends it; a client's own X-Forwarded-For is never believed.
func TestEngine_ClientAddressFromNginxOnly(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger())
	e.GET("/ip", func(c *gin.Context) { c.String(http.StatusOK, c.ClientIP()) })
	tests := []struct {
		name    string
		peer    string
		headers map[string]string
		want    string
	}{
		{"nginx's X-Real-IP", "127.0.0.1:5000", map[string]string{"X-Real-IP": "203.0.113.7"}, "203.0.113.7"},
		{"X-Forwarded-For ignored", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Real-IP": "203.0.113.7"}, "203.0.113.7"},
		{"X-Forwarded-For alone ignored", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.1"}, "127.0.0.1"},
		{"public peer's X-Real-IP ignored", "203.0.113.9:5000", map[string]string{"X-Real-IP": "198.51.100.1"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/ip", nil)
		req.RemoteAddr = tt.peer
		for k, v := range tt.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Body.String() != tt.want {
			t.Errorf("%s: client %q, want %q", tt.name, rec.Body.String(), tt.want)
		}
	}
}
