package stack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// testSettings are the end-to-end tests' settings over .env.example: a
// cheap bcrypt cost (sign-ups would otherwise take 0.4 s of CPU each); a
// sign-in rate limit the rate-limit test can reach quickly; a privileged
// session of 10 s, so that the test of a password change from an old
// session waits seconds, not a quarter of an hour (a test that changes a
// password right after signing in still has ample time); auth's attempt
// limits short, so that the backoff tests see a 429 after a few wrong
// passwords and it is over in seconds (3 free failures per account and
// address, 20 per account, delays of 2 s doubling up to 4 s, forgotten
// after a minute), with an address rate the parallel tests' sign-ups from
// one address stay under; and 127.0.0.1 trusted as a proxy, so a test can
// speak for another client with X-Forwarded-For (clients at any other
// loopback address are not believed). Orders: an order rate a test buyer
// does not reach by ordering one ticket after another (a burst of 30, then
// 30 a second), yet the order-rate test reaches at once; the hold limit
// stays at its default of 5 (the hold test counts on it; the fault bursts
// spread their purchases so that no buyer holds more), and so does the
// per-ticket hold pace, ORDER_TICKET_RATE 2/1h (the rehold test counts on
// it; a test that cycles orders of one ticket takes turns among buyers, and
// an attempt that fails — a fault burst's retries — is not counted).
var testSettings = Env{
	"KRATOS_BCRYPT_COST":                "4",
	"KRATOS_PRIVILEGED_SESSION_MAX_AGE": "10s",
	"AUTH_RATE_LIMIT":                   "20r/s",
	"AUTH_RATE_BURST":                   "20",
	"AUTH_ADDRESS_RATE":                 "40/1s",
	"AUTH_IDENTIFIER_RATE":              "20/1m",
	"AUTH_FAILURES_FREE":                "3",
	"AUTH_ACCOUNT_FAILURES_FREE":        "20",
	"AUTH_FAILURE_DELAY":                "2s",
	"AUTH_FAILURE_DELAY_MAX":            "4s",
	"AUTH_FAILURE_MEMORY":               "1m",
	"NGINX_TRUSTED_PROXIES":             "127.0.0.1",
	"ORDER_CREATE_RATE":                 "30/1s",
}

// benchSettings are the load generator's settings over .env.example: the
// production bcrypt cost (sign-ins are measured as users would pay for
// them), but the load test's own limits raised: one client address makes
// every request, so the per-IP sign-in rate limit would measure nginx, and
// thousands of concurrent buyers need more connections than a default nginx
// worker allows. auth's per-address attempt rate is raised for the same
// reason (its per-account limits stay: the load generator's sign-ins
// succeed, and each account registers once). The load generator's buyers
// order many tickets each, as fast as they can: the order rate, the hold
// limit and the per-ticket hold pace are raised out of its way (they would
// measure the limits, not the system).
var benchSettings = Env{
	"AUTH_RATE_LIMIT":           "100000r/s",
	"AUTH_RATE_BURST":           "100000",
	"AUTH_ADDRESS_RATE":         "1000000/1s",
	"NGINX_WORKER_CONNECTIONS":  "16384",
	"ORDER_CREATE_RATE":         "1000000/1s",
	"ORDER_MAX_HOLDS_PER_BUYER": "100000",
	"ORDER_TICKET_RATE":         "1000000/1s",
}

// TestPortOffset shifts every port of the test stack away from `make up`'s.
const TestPortOffset = 10000

// BenchPortOffset shifts every port of the benchmark stack away from both.
const BenchPortOffset = 20000

// Profile returns the options of a named stack: "dev" (`make up`: settings
// from .env.example, .env and the environment; STATE_DIR and PORT_OFFSET
// honoured) or "test" (isolated: its own ports and state folder, settings
// from .env.example and testSettings only, so a developer's .env never
// changes what the tests see) or "bench" (the same isolation for `make
// bench`, with benchSettings). TEST_PORT_OFFSET moves the test stack, so
// that the tests of two checkouts can run at once.
func Profile(name, root string, out io.Writer) (Options, error) {
	example, err := ParseEnvFile(filepath.Join(root, ".env.example"))
	if err != nil {
		return Options{}, err
	}
	o := Options{Root: root, Bin: filepath.Join(root, ".cache/bin"), Out: out, Profile: name}
	switch name {
	case "test":
		o.PortOffset = TestPortOffset
		if v := os.Getenv("TEST_PORT_OFFSET"); v != "" {
			// A second checkout's tests run beside the first's.
			if o.PortOffset, err = strconv.Atoi(v); err != nil || o.PortOffset < 0 || o.PortOffset > 30000 {
				return Options{}, fmt.Errorf("TEST_PORT_OFFSET: want a number from 0 to 30000, got %q", v)
			}
		}
		o.Settings = example.Merge(testSettings, Env{"NGINX_PORT": strconv.Itoa(portNginx + o.PortOffset)})
		o.State = filepath.Join(root, ".state-test")
		return o, nil
	case "bench":
		o.Settings = example.Merge(benchSettings, Env{"NGINX_PORT": strconv.Itoa(portNginx + BenchPortOffset)})
		o.PortOffset = BenchPortOffset
		o.State = filepath.Join(root, ".state-bench")
		return o, nil
	case "dev", "":
		o.Profile = "dev"
		if err := copyIfMissing(filepath.Join(root, ".env.example"), filepath.Join(root, ".env")); err != nil {
			return Options{}, err
		}
		dotenv, err := ParseEnvFile(filepath.Join(root, ".env"))
		if err != nil {
			return Options{}, err
		}
		o.Settings = example.Merge(dotenv, ProcessEnv())
		if v := o.Settings["PORT_OFFSET"]; v != "" {
			if o.PortOffset, err = strconv.Atoi(v); err != nil || o.PortOffset < 0 || o.PortOffset > 30000 {
				return Options{}, fmt.Errorf("PORT_OFFSET: want a number from 0 to 30000, got %q", v)
			}
		}
		if _, set := ProcessEnv()["NGINX_PORT"]; !set && o.PortOffset != 0 {
			// A second stack moves nginx along with everything else.
			o.Settings["NGINX_PORT"] = strconv.Itoa(portNginx + o.PortOffset)
		}
		o.State = o.Settings["STATE_DIR"]
		if o.State == "" {
			o.State = filepath.Join(root, ".state")
		}
		return o, nil
	}
	return Options{}, fmt.Errorf("unknown stack profile %q (want dev, test or bench)", name)
}

// copyIfMissing creates dst as a copy of src unless dst exists: a newcomer's
// .env starts as .env.example.
func copyIfMissing(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
