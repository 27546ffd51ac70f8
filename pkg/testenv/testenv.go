// Package testenv points tests at the real servers of the test stack.
package testenv

import (
	"os"
	"testing"
)

// Require returns the environment variable name, which names a server of the
// test stack. Without it the test is skipped, visibly — except under
// `make test`, which sets TEST_REQUIRE_SERVERS so that a missing server
// fails the run instead of passing as skipped.
func Require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("TEST_REQUIRE_SERVERS") != "" {
		t.Fatalf("%s is not set, and TEST_REQUIRE_SERVERS asks for every real server", name)
	}
	t.Skipf("%s is not set: this test needs the test stack (make test sets it); NOT tested", name)
	return ""
}
