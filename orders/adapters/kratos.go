package adapters

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// KratosReady returns a readiness check of the Kratos public API that
// authenticates orders' requests (GET /health/ready).
func KratosReady(publicURL string, client *http.Client) (func(context.Context) error, error) {
	base, err := url.Parse(publicURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("invalid Kratos public URL %q", publicURL)
	}
	readyURL := base.JoinPath("health", "ready").String()
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return apierr.Unavailable("Kratos", err)
		}
		defer func() {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}()
		if resp.StatusCode != http.StatusOK {
			return apierr.Unavailable("Kratos", fmt.Errorf("health/ready answered %s", resp.Status))
		}
		return nil
	}, nil
}
