package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// kratosReady is the readiness check of the Kratos whose whoami
// authenticates requests: GET /health/ready on its public API.
func kratosReady(publicURL string, client *http.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		base, err := url.Parse(publicURL)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath("health", "ready").String(), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("kratos: %w", err)
		}
		defer func() {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("kratos: health/ready answered %s", resp.Status)
		}
		return nil
	}
}
