// Package e2e holds the end-to-end tests: real users' journeys through nginx
// against the whole stack (Kratos, Keto, FerretDB, RabbitMQ, Redis,
// stripe-mock and the services).
//
// `make test` starts the isolated test stack and points the tests at it with
// TEST_* variables; `go test ./e2e/...` alone starts (and stops) it itself.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticketing/ticketing/internal/stack"
)

// stackEnv holds the TEST_* variables of the stack under test.
var stackEnv stack.Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	stackEnv = stack.ProcessEnv()
	if stackEnv["TEST_STACK_URL"] == "" {
		root, err := filepath.Abs("..")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		o, err := stack.Profile("test", root, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		s, err := stack.New(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		// Stop the stack even when the tests fail or panic in a goroutine
		// the testing package recovers from.
		defer s.Down()
		if err := s.Up(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: the test stack did not start:", err)
			return 1
		}
		stackEnv = s.TestEnv()
	}
	return m.Run()
}

// baseURL is nginx's address.
func baseURL() string { return stackEnv["TEST_STACK_URL"] }
