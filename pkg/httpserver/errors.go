package httpserver

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// loggerKey is where the engine keeps its logger in each gin context, for
// WriteError.
const loggerKey = "httpserver.logger"

// WriteError answers the request with err in the JSON error shape and aborts
// the handler chain. It is the one place that maps errors to HTTP: the status
// comes from err's apierr.Kind, anything else is a 500 whose text is logged
// and never sent. Server-side failures (5xx) are logged with their cause. A
// 429 carries Retry-After: the error's RetryAfter, at least one second.
func WriteError(c *gin.Context, err error) {
	status := apierr.Status(err)
	if status == http.StatusTooManyRequests {
		var wait time.Duration
		if e, ok := apierr.As(err); ok {
			wait = e.RetryAfter
		}
		c.Header("Retry-After", RetryAfterSeconds(wait))
	}
	if status >= http.StatusInternalServerError {
		logger, ok := c.Value(loggerKey).(*slog.Logger)
		if !ok {
			logger = slog.Default()
		}
		logger.ErrorContext(c.Request.Context(), "request failed",
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	c.AbortWithStatusJSON(status, apierr.BodyOf(err))
}

// RetryAfterSeconds is the value of a Retry-After header for a wait of d:
// whole seconds, rounded up, at least 1 (a client told 0 would retry at
// once).
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}
