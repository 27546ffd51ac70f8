package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/pkg/config"
)

// TestServices_RefusePublishedSecretsUnlessTheRunnerStartedThem starts each
// service's binary with the test stack's own environment (the published
// development secrets) but without the stack runner's mark, as a deployment
// that copied those values would: each must exit at once, naming the secret.
func TestServices_RefusePublishedSecretsUnlessTheRunnerStartedThem(t *testing.T) {
	t.Parallel()
	s := testStack(t)
	base := s.Env()
	if base[config.RunnerVariable] != "test" {
		t.Fatalf("the runner's environment has %s=%q, want test", config.RunnerVariable, base[config.RunnerVariable])
	}
	delete(base, config.RunnerVariable)
	base["HTTP_ADDR"] = "127.0.0.1:0" // never the running stack's port

	for svc, secrets := range map[string][]string{
		"auth":     {"AUTH_WEBHOOK_API_KEY"},
		"tickets":  {"CURSOR_SECRET"},
		"orders":   {"CURSOR_SECRET"},
		"payments": {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "CURSOR_SECRET"},
	} {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(s.Bin, svc))
			cmd.Env = base.Merge(stack.Env{"SERVICE_NAME": svc, "MONGO_DATABASE": svc}).List()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if ctx.Err() != nil || !errors.As(err, &exit) {
				t.Fatalf("%s with published secrets and no runner: err = %v (still running after 20 s?), want it to refuse to start; output:\n%s",
					svc, err, out.String())
			}
			for _, name := range secrets {
				if want := name + ": holds a secret published in the ticketing repository"; !strings.Contains(out.String(), want) {
					t.Errorf("%s exited (%v) without saying %q; output:\n%s", svc, err, want, out.String())
				}
				if strings.Contains(out.String(), base[name]) {
					t.Errorf("%s printed the secret %s itself", svc, name)
				}
			}
		})
	}
}
