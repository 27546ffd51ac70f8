package httpserver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/logging"
)

// RequestIDHeader carries the request id from nginx to the service and back
// to the client.
const RequestIDHeader = "X-Request-Id"

// validRequestID accepts ids such as nginx's $request_id (32 hex digits) and
// UUIDs, and nothing that could forge or break a log line.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

var (
	errNoRoute  = apierr.NotFound("not_found", "no such resource")
	errNoMethod = apierr.New(apierr.KindMethodNotAllowed, "method_not_allowed", "method not allowed on this resource")
)

// requestID takes the request id from nginx when it is well-formed, or makes
// one, stores it in the request context for logs and echoes it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// accessLog logs one line per request, after it is served. Probes log at
// debug level so they do not drown the rest.
func accessLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Set(loggerKey, logger)
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= http.StatusInternalServerError:
			level = slog.LevelError
		case c.FullPath() == "/healthz" || c.FullPath() == "/readyz":
			level = slog.LevelDebug
		}
		logger.LogAttrs(c.Request.Context(), level, "request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// recovery turns a panic into a logged 500 in the error shape. A panic with
// http.ErrAbortHandler is let through: it is how a handler aborts a response
// on purpose.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			logger.ErrorContext(c.Request.Context(), "panic while serving a request",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			WriteError(c, apierr.Internal(fmt.Errorf("panic: %v", p)))
		}()
		c.Next()
	}
}

// singleQueryValues refuses a query string that gives a parameter more than
// once (?limit=1&limit=2), rather than letting each handler pick one of the
// values (no endpoint takes a list in its query), or that is not
// well-formed (?title=%zz, or a semicolon separator, which Go's parser
// drops with what follows). Each problem names its parameter.
func singleQueryValues() gin.HandlerFunc {
	return func(c *gin.Context) {
		if problems := queryProblems(c.Request.URL.RawQuery); len(problems) > 0 {
			WriteError(c, apierr.Validation(problems...))
			return
		}
		c.Next()
	}
}

func queryProblems(rawQuery string) []apierr.FieldError {
	var problems []apierr.FieldError
	seen := map[string]int{}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, errName := url.QueryUnescape(rawName)
		_, errValue := url.QueryUnescape(rawValue)
		switch {
		case errName != nil:
			problems = append(problems, apierr.Field(rawName, "is not a well-formed query parameter name"))
		case errValue != nil || strings.Contains(pair, ";"):
			problems = append(problems, apierr.Field(name, "is not a well-formed query parameter (percent-encode %, ; and &)"))
		default:
			if seen[name]++; seen[name] == 2 {
				problems = append(problems, apierr.Field(name, "must be given at most once"))
			}
		}
	}
	return problems
}
