package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// CheckTimeout bounds each readiness check, so /readyz answers promptly even
// when a dependency hangs.
const CheckTimeout = 2 * time.Second

// Check is one readiness check: Run returns nil when the dependency Name
// (e.g. "mongo", "kratos") can serve. Describe, when set, replaces Run and
// also returns a state shown under "details" in /readyz (queue depths, for
// example) — never secrets.
type Check struct {
	Name     string
	Run      func(ctx context.Context) error
	Describe func(ctx context.Context) (any, error)
}

func (c Check) run(ctx context.Context) (any, error) {
	if c.Describe != nil {
		return c.Describe(ctx)
	}
	return nil, c.Run(ctx)
}

// readiness is the /readyz document.
type readiness struct {
	Status  string            `json:"status"`
	Checks  map[string]string `json:"checks"`
	Details map[string]any    `json:"details,omitempty"`
}

// healthz answers liveness probes: the process serves HTTP.
func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs every check concurrently and answers 200 when all pass, else
// 503 naming the failed ones. Failure details are logged, not sent.
func readyz(logger *slog.Logger, checks []Check) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		results := make(map[string]string, len(checks))
		details := map[string]any{}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for _, check := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				checkCtx, cancel := context.WithTimeout(ctx, CheckTimeout)
				defer cancel()
				result := "ok"
				detail, err := check.run(checkCtx)
				if err != nil {
					result = "failed"
					logger.WarnContext(ctx, "readiness check failed",
						slog.String("check", check.Name), slog.String("error", err.Error()))
				}
				mu.Lock()
				results[check.Name] = result
				if detail != nil {
					details[check.Name] = detail
				}
				mu.Unlock()
			}()
		}
		wg.Wait()

		doc := readiness{Status: "ok", Checks: results}
		if len(details) > 0 {
			doc.Details = details
		}
		status := http.StatusOK
		for _, result := range results {
			if result != "ok" {
				doc.Status, status = "unavailable", http.StatusServiceUnavailable
			}
		}
		c.JSON(status, doc)
	}
}
