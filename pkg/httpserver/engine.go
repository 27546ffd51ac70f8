// Package httpserver is the HTTP edge every service shares: a gin engine with
// request ids, access logs, panic recovery and the API's one JSON error shape
// for every answer (404 and 405 included); one rule for query strings (each
// parameter at most once) and for trailing slashes (404, no redirect);
// liveness and readiness endpoints; strict JSON body binding; HEAD served as
// GET; and graceful shutdown.
package httpserver

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Config is the HTTP part of a service's configuration.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string `env:"HTTP_ADDR" default:":4000"`
	// DebugAddr, when set, serves the Go profiler there (see ServeDebug).
	DebugAddr string `env:"DEBUG_ADDR"`
	// MaxInFlight is how many reads, and how many writes, are served at
	// once (0: no limit); the others wait up to QueueWait for a turn (see
	// Admit).
	MaxInFlight int           `env:"HTTP_MAX_IN_FLIGHT" default:"64" validate:"min=0"`
	QueueWait   time.Duration `env:"HTTP_QUEUE_WAIT" default:"30s" validate:"min=0s"`
}

// privateNetworks are the proxies (nginx) whose X-Real-IP is believed for
// the client address (access logs, rate limits). nginx sets X-Real-IP to the
// address it settled on (its own peer, or what a proxy it trusts forwarded),
// overwriting any a client sent; X-Forwarded-For is not read, since its
// leftmost entries are whatever the client wrote.
var privateNetworks = []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

// New returns an engine with the shared middleware, /healthz and /readyz
// (which runs checks). Add the service's routes to it.
func New(logger *slog.Logger, checks ...Check) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// A path that differs from a route by a trailing slash or letter case is
	// a 404 in the JSON shape, like any unknown path: gin's redirects would
	// answer with a body that is not JSON and a Location built from the
	// client's X-Forwarded-Prefix.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(privateNetworks); err != nil {
		panic(err) // the list above is constant and valid
	}
	e.RemoteIPHeaders = []string{"X-Real-IP"}
	e.Use(requestID(), accessLog(logger), recovery(logger), singleQueryValues())
	e.NoRoute(func(c *gin.Context) {
		WriteError(c, errNoRoute)
	})
	e.NoMethod(func(c *gin.Context) {
		// Run serves HEAD wherever GET is served; gin's Allow does not know.
		if allow := c.Writer.Header().Get("Allow"); slices.Contains(strings.Split(allow, ", "), http.MethodGet) {
			c.Header("Allow", allow+", "+http.MethodHead)
		}
		WriteError(c, errNoMethod)
	})
	e.GET("/healthz", healthz)
	e.GET("/readyz", readyz(logger, checks))
	return e
}
