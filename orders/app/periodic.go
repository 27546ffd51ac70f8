package app

import (
	"context"
	"time"
)

// runPasses calls pass every interval until ctx ends, and hands each pass's
// outcome to report (never after ctx ended): the loop the background sweeps
// of orders share, so that each of them is only its one pass.
func runPasses(ctx context.Context, interval time.Duration, pass func(context.Context) (int, error), report func(n int, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := pass(ctx)
		if ctx.Err() == nil {
			report(n, err)
		}
	}
}
