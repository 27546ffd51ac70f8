// Package stack runs the whole ticketing system on one machine without
// Docker: it installs what is missing (Debian packages, external servers
// built with the go command), starts every dependency and service on
// loopback with its state in a project-local folder, waits until each is
// ready, and stops exactly what it started. `make up`, `make down` and the
// end-to-end tests all go through it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Services are the project's own services, in the order of their ports
// (auth listens on 4001, tickets on 4002, …). A service is started once its
// folder has a main.go.
var Services = []string{"auth", "tickets", "orders", "payments", "expiration"}

// Options configure a Stack.
type Options struct {
	// Root is the repository root.
	Root string
	// State holds data, logs and pid files; `make wipe` deletes it.
	State string
	// Bin holds built binaries, kept across wipes so that builds are cached.
	Bin string
	// PortOffset is added to every default port, so that a second stack
	// (the end-to-end tests') runs beside a developer's `make up`.
	PortOffset int
	// Settings are the user's variables: .env.example, then .env, then the
	// process environment, later layers winning.
	Settings Env
	// Out receives progress lines.
	Out io.Writer
	// Profile names the runner's profile (dev, test or bench). The services
	// learn it from config.RunnerVariable, and only then accept the
	// published development secrets.
	Profile string
}

// Stack is one local deployment of the system.
type Stack struct {
	Options
	env        Env
	components []*component

	mu       sync.Mutex
	override map[string]Env // per service, set by RestartWith

	devSecrets []string // the published development secrets in use
}

// New resolves the stack's configuration; it starts nothing.
func New(o Options) (*Stack, error) {
	for _, p := range []*string{&o.Root, &o.State, &o.Bin} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	s := &Stack{Options: o}
	env, err := s.resolveEnv()
	if err != nil {
		return nil, err
	}
	s.env = env
	s.components = s.define()
	return s, nil
}

// Env is the full environment the services run with.
func (s *Stack) Env() Env { return s.env.Merge() }

// URL is nginx's address, where every public API is served.
func (s *Stack) URL() string { return s.env["PUBLIC_URL"] }

// port returns base shifted by the stack's offset.
func (s *Stack) port(base int) int { return base + s.PortOffset }

func (s *Stack) addr(base int) string { return "127.0.0.1:" + strconv.Itoa(s.port(base)) }

func (s *Stack) logf(format string, args ...any) {
	fmt.Fprintf(s.Out, "[stack] "+format+"\n", args...)
}

// Up installs, builds and starts whatever is missing, then waits until every
// component is ready. Components already running and healthy are reused.
func (s *Stack) Up(ctx context.Context) error {
	start := time.Now()
	for _, dir := range []string{s.State, s.Bin} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if len(s.devSecrets) > 0 {
		s.logf("profile %s: using the published development secrets %s; never use them in production (README.md, \"Secrets\")",
			s.Profile, strings.Join(s.devSecrets, ", "))
	}
	if err := s.install(ctx); err != nil {
		return err
	}
	if err := s.buildAll(ctx); err != nil {
		return err
	}
	if err := RenderAll(s.Root, filepath.Join(s.State, "config"), s.env); err != nil {
		return err
	}
	for stage := 0; stage <= maxStage; stage++ {
		if err := s.startStage(ctx, stage); err != nil {
			return err
		}
	}
	s.logf("ready in %s: %s", time.Since(start).Round(100*time.Millisecond), s.URL())
	return nil
}

func (s *Stack) startStage(ctx context.Context, stage int) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.components))
	for i, c := range s.components {
		if c.stage != stage || !c.enabled() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.ensure(ctx, c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ensure reuses c when it is already running healthy with the same
// fingerprint, and (re)starts it otherwise.
func (s *Stack) ensure(ctx context.Context, c *component) error {
	fp, err := c.fingerprint()
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if p, ok := s.readProcess(c.name); ok && alive(p.Pid) {
		if p.Fingerprint == fp && c.ready(ctx) == nil {
			s.logf("%s: already running (pid %d), reused", c.name, p.Pid)
			return nil
		}
		s.logf("%s: restarting (configuration or binary changed, or not ready)", c.name)
		stopProcess(p.Pid, c.stopSignal, 15*time.Second)
	} else if c.ready(ctx) == nil {
		s.logf("%s: a healthy server already answers on its port; reusing it (not managed by this stack)", c.name)
		return nil
	}
	if c.prepare != nil {
		if err := c.prepare(ctx); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", c.name, err, s.logFile(c.name))
		}
	}
	began := time.Now()
	pid, err := s.spawn(c.name, c.command())
	if err != nil {
		return err
	}
	if err := s.writeProcess(c.name, process{Pid: pid, Fingerprint: fp}); err != nil {
		return err
	}
	if err := waitReady(ctx, c, pid, c.timeout); err != nil {
		return fmt.Errorf("%s did not become ready: %w\n--- last lines of %s ---\n%s",
			c.name, err, s.logFile(c.name), tail(s.logFile(c.name), 20))
	}
	if c.after != nil {
		if err := c.after(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	s.logf("%s: ready in %s (pid %d)", c.name, time.Since(began).Round(10*time.Millisecond), pid)
	return nil
}

func waitReady(ctx context.Context, c *component, pid int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if !alive(pid) {
			return fmt.Errorf("process exited")
		}
		if last = c.ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Down stops every process this stack started, newest stage first, and
// keeps the data.
func (s *Stack) Down() error {
	for stage := maxStage; stage >= 0; stage-- {
		var wg sync.WaitGroup
		for _, c := range s.components {
			if c.stage != stage {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.stop(c)
			}()
		}
		wg.Wait()
	}
	return nil
}

func (s *Stack) stop(c *component) {
	p, ok := s.readProcess(c.name)
	if ok && alive(p.Pid) {
		stopProcess(p.Pid, c.stopSignal, 20*time.Second)
		s.logf("%s: stopped (pid %d)", c.name, p.Pid)
	}
	if ok && c.cleanup != nil {
		c.cleanup()
	}
	_ = os.Remove(s.pidFile(c.name))
}

// Wipe stops the stack and deletes its state folder (data, logs, pids).
// Built binaries are kept.
func (s *Stack) Wipe() error {
	if err := s.Down(); err != nil {
		return err
	}
	if base := s.postgresBase(); base != s.State {
		if err := os.RemoveAll(base); err != nil {
			return err
		}
	}
	s.logf("deleting %s", s.State)
	return os.RemoveAll(s.State)
}

// Status reports, per component, whether this stack runs it and whether it
// is ready.
func (s *Stack) Status(ctx context.Context) {
	for _, c := range s.components {
		state := "stopped"
		if p, ok := s.readProcess(c.name); ok && alive(p.Pid) {
			state = fmt.Sprintf("running (pid %d)", p.Pid)
		}
		ready := "not ready"
		if c.ready(ctx) == nil {
			ready = "ready"
		}
		s.logf("%-12s %-22s %s", c.name, state, ready)
	}
}

// signalFor is the signal a component's server shuts down cleanly on.
func signalFor(name string) syscall.Signal {
	if name == "postgres" {
		return syscall.SIGINT // fast shutdown: do not wait for clients
	}
	return syscall.SIGTERM
}

// TestEnv is what tests need to reach this stack: nginx's URL and the
// direct addresses of the servers they inspect.
func (s *Stack) TestEnv() Env {
	return Env{
		"TEST_STACK_URL":             s.URL(),
		"TEST_AUTH_URL":              "http://" + s.env["AUTH_UPSTREAM"],
		"TEST_MONGO_URI":             s.env["MONGO_URI"],
		"TEST_KRATOS_PUBLIC_URL":     s.env["KRATOS_PUBLIC_URL"],
		"TEST_KRATOS_ADMIN_URL":      s.env["KRATOS_ADMIN_URL"],
		"TEST_KETO_READ_URL":         s.env["KETO_READ_URL"],
		"TEST_KETO_WRITE_URL":        s.env["KETO_WRITE_URL"],
		"TEST_RABBITMQ_URL":          s.env["RABBITMQ_URL"],
		"TEST_REDIS_ADDR":            s.env["REDIS_ADDR"],
		"TEST_STRIPE_API_BASE":       s.env["STRIPE_API_BASE"],
		"TEST_STATE_DIR":             s.State,
		"TEST_AUTH_WEBHOOK_API_KEY":  s.env["AUTH_WEBHOOK_API_KEY"],
		"TEST_STRIPE_WEBHOOK_SECRET": s.env["STRIPE_WEBHOOK_SECRET"],
	}
}

// Restart stops the named component and starts it again, waiting until it
// is ready: the fault tests' way to take a dependency away and back.
func (s *Stack) Restart(ctx context.Context, name string) error {
	c := s.component(name)
	if c == nil {
		return fmt.Errorf("no component %q", name)
	}
	s.stop(c)
	return s.ensure(ctx, c)
}

// Stop stops the named component.
func (s *Stack) Stop(name string) error {
	c := s.component(name)
	if c == nil {
		return fmt.Errorf("no component %q", name)
	}
	s.stop(c)
	return nil
}

// Start starts the named component (after Stop) and waits until it is ready.
func (s *Stack) Start(ctx context.Context, name string) error {
	c := s.component(name)
	if c == nil {
		return fmt.Errorf("no component %q", name)
	}
	return s.ensure(ctx, c)
}

func (s *Stack) component(name string) *component {
	for _, c := range s.components {
		if c.name == name {
			return c
		}
	}
	return nil
}

// RestartWith restarts a service with extra variables (a test's short hold
// window, say); RestartWith(ctx, name, nil) restores its usual environment.
func (s *Stack) RestartWith(ctx context.Context, name string, env Env) error {
	s.mu.Lock()
	if s.override == nil {
		s.override = map[string]Env{}
	}
	s.override[name] = env
	s.mu.Unlock()
	return s.Restart(ctx, name)
}

func (s *Stack) overrides(name string) Env {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.override[name].Merge()
}
