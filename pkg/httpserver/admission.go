package httpserver

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
)

var errOverloaded = apierr.New(apierr.KindUnavailable, "overloaded", "the service is busy; retry in a moment")

// Admit is middleware that lets at most limit reads (GET, HEAD, OPTIONS)
// and limit writes run at once; the others wait for a turn, up to maxWait,
// and are then answered 503 overloaded with Retry-After. A burst (a flash
// sale's buyers all at once) thus waits in line before it touches a
// dependency, instead of starting hundreds of Kratos, Keto and database
// calls together, each of which would run past its own timeout: measured in
// docs/performance.md, 500 concurrent buyers without it got 1,862 × 503
// from orders, whoami timing out. Reads and writes wait in separate lines,
// so that reading an order (a buyer's page, or payments asking orders for
// one) is not stuck behind a sale's POSTs. A request whose client leaves
// while it waits is dropped unserved.
func Admit(limit int, maxWait time.Duration) gin.HandlerFunc {
	if limit <= 0 {
		return func(c *gin.Context) { c.Next() }
	}
	reads, writes := make(chan struct{}, limit), make(chan struct{}, limit)
	return func(c *gin.Context) {
		slots := writes
		if SafeMethod(c.Request.Method) {
			slots = reads
		}
		select {
		case slots <- struct{}{}:
		default:
			timer := time.NewTimer(maxWait)
			select {
			case slots <- struct{}{}:
				timer.Stop()
			case <-timer.C:
				c.Header("Retry-After", "1")
				WriteError(c, errOverloaded)
				return
			case <-c.Request.Context().Done():
				timer.Stop()
				c.Abort()
				return
			}
		}
		defer func() { <-slots }()
		c.Next()
	}
}

// SafeMethod reports whether method only reads (GET, HEAD, OPTIONS).
func SafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}
