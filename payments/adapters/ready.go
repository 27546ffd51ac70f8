package adapters

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// HTTPReady returns a readiness check that GETs url and wants a 200, for a
// dependency (Kratos' /health/ready) that has no client here.
func HTTPReady(client *http.Client, name, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return apierr.Unavailable(name, err)
		}
		defer func() {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}()
		if resp.StatusCode != http.StatusOK {
			return apierr.Unavailable(name, fmt.Errorf("%s answered %s", url, resp.Status))
		}
		return nil
	}
}
