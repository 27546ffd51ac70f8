package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ticketing/ticketing/pkg/config"
)

// Default ports before PortOffset; docs/contracts-local.md lists them.
const (
	portNginx       = 8080
	portService     = 4001 // auth; the others follow in Services order
	portDebugShift  = 100  // each service's profiler: 4101 (auth) to 4105
	portKratosPub   = 4433
	portKratosAdmin = 4434
	portKetoRead    = 4466
	portKetoWrite   = 4467
	portKetoOPL     = 4469
	portKetoMetrics = 4468
	portMongo       = 27017
	portAMQP        = 5672
	portErlDist     = 6672 // not 25672: that is AMQP's port under PORT_OFFSET=20000
	portEPMD        = 4369
	portRedis       = 6379
	portPostgres    = 5432
	portStripe      = 12111
)

// mongoPoolSize bounds each client's connections to FerretDB, which serves
// at most 50 operations at once (its PostgreSQL pool) and answers the rest
// only after they timed out: with five services at 8 each, an overload
// waits in the services' pools (and ends in a clear 503 there) instead of
// swamping FerretDB until every client times out.
const mongoPoolSize = 8

// maxStage is the last start-up stage: dependencies (0), Ory and FerretDB (1), the
// services (2), nginx (3).
const maxStage = 3

// component is one server of the stack.
type component struct {
	name       string
	stage      int
	enabled    func() bool
	command    func() *exec.Cmd
	prepare    func(ctx context.Context) error // before start: init, migrations
	ready      func(ctx context.Context) error
	after      func(ctx context.Context) error // once ready: e.g. create databases
	cleanup    func()                          // after stop
	files      []string                        // binary and configuration: the fingerprint
	stopSignal syscall.Signal
	timeout    time.Duration
}

func (c *component) fingerprint() (string, error) {
	h := sha256.New()
	for _, f := range c.files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// oryPool sizes Kratos' and Keto's PostgreSQL pools. Their default is 2
// connections per core with 1 per core kept idle, i.e. 4 and 2 here: under
// load every query beyond two waited for a connection or opened one (a new
// PostgreSQL backend process) and closed it again, which cost more CPU than
// any other part of an order (docs/performance.md). Keeping every
// connection open ends that churn.
const oryPool = "max_conns=16&max_idle_conns=16"

// resolveEnv computes the local addresses of every component and lays the
// user's settings over the defaults the services need.
func (s *Stack) resolveEnv() (Env, error) {
	env := s.Settings.Merge()
	env.Default("NGINX_PORT", strconv.Itoa(s.port(portNginx)))
	nginxPort, err := strconv.Atoi(env["NGINX_PORT"])
	if err != nil || nginxPort <= 0 || nginxPort > 65535 {
		return nil, fmt.Errorf("NGINX_PORT: want a port number, got %q", env["NGINX_PORT"])
	}
	public := "http://127.0.0.1:" + env["NGINX_PORT"]
	local := Env{
		"PUBLIC_URL":           public,
		"MONGO_URI":            "mongodb://" + s.addr(portMongo) + "/?maxPoolSize=" + strconv.Itoa(mongoPoolSize),
		"KRATOS_PUBLIC_URL":    "http://" + s.addr(portKratosPub),
		"KRATOS_ADMIN_URL":     "http://" + s.addr(portKratosAdmin),
		"KETO_READ_URL":        "http://" + s.addr(portKetoRead),
		"KETO_WRITE_URL":       "http://" + s.addr(portKetoWrite),
		"RABBITMQ_URL":         "amqp://guest:guest@" + s.addr(portAMQP) + "/",
		"REDIS_ADDR":           s.addr(portRedis),
		"STRIPE_API_BASE":      "http://" + s.addr(portStripe),
		"KRATOS_DSN":           "postgres://postgres@" + s.addr(portPostgres) + "/kratos?sslmode=disable&" + oryPool,
		"KETO_DSN":             "postgres://postgres@" + s.addr(portPostgres) + "/keto?sslmode=disable&" + oryPool,
		"AUTH_WEBHOOK_URL":     "http://" + s.addr(portService) + "/api/users/on-sign-up",
		"KRATOS_HOST":          "127.0.0.1",
		"KRATOS_PUBLIC_PORT":   strconv.Itoa(s.port(portKratosPub)),
		"KRATOS_ADMIN_PORT":    strconv.Itoa(s.port(portKratosAdmin)),
		"KRATOS_SCHEMA_FILE":   filepath.Join(s.Root, "ory/kratos/identity.schema.json"),
		"KRATOS_WEBHOOK_BODY":  filepath.Join(s.Root, "ory/kratos/webhook-body.jsonnet"),
		"KETO_HOST":            "127.0.0.1",
		"KETO_READ_PORT":       strconv.Itoa(s.port(portKetoRead)),
		"KETO_WRITE_PORT":      strconv.Itoa(s.port(portKetoWrite)),
		"KETO_OPL_PORT":        strconv.Itoa(s.port(portKetoOPL)),
		"KETO_METRICS_PORT":    strconv.Itoa(s.port(portKetoMetrics)),
		"KETO_NAMESPACES_FILE": filepath.Join(s.Root, "ory/keto/namespaces.keto.ts"),
		"NGINX_LISTEN":         "127.0.0.1:" + env["NGINX_PORT"],
		"NGINX_PID":            filepath.Join(s.State, "nginx/nginx.pid"),
		"NGINX_TEMP_DIR":       filepath.Join(s.State, "nginx/tmp"),
		"NGINX_ERROR_LOG":      filepath.Join(s.State, "logs/nginx-error.log"),
		"NGINX_ACCESS_LOG":     filepath.Join(s.State, "logs/nginx-access.log"),
		// Every Go server of the stack (the services, Kratos, Keto,
		// FerretDB) collects garbage at 4× the live heap instead of 2×:
		// memory is plentiful here and CPU is not; GC took a fifth of
		// FerretDB's CPU under load (docs/performance.md).
		"GOGC": "400",
	}
	for i, svc := range Services {
		local[strings.ToUpper(svc)+"_UPSTREAM"] = s.addr(portService + i)
	}
	// Payments asks orders directly for an order whose event is late.
	local["ORDERS_URL"] = "http://" + local["ORDERS_UPSTREAM"]
	// The user's settings win over the local defaults, except the addresses
	// the runner itself assigns, which must match the servers it starts.
	for k, v := range local {
		if _, set := s.Settings[k]; !set || isAddress(k) {
			env[k] = v
		}
	}
	s.useDevelopmentSecrets(env)
	return env, nil
}

// useDevelopmentSecrets fills every secret the settings leave empty with its
// published development value, and marks the environment as the runner's,
// whatever .env or the caller said: only then do the services accept those
// values (config.CheckSecret). Up says so in its log.
func (s *Stack) useDevelopmentSecrets(env Env) {
	if s.Profile == "" {
		s.Profile = "dev"
	}
	env[config.RunnerVariable] = s.Profile
	s.devSecrets = nil
	for name, v := range config.DevelopmentSecrets {
		if env[name] == "" {
			env[name] = v
			s.devSecrets = append(s.devSecrets, name)
		}
	}
	sort.Strings(s.devSecrets)
}

// isAddress reports whether key names an address the runner assigns.
func isAddress(key string) bool {
	for _, suffix := range []string{"_URL", "_URI", "_ADDR", "_DSN", "_UPSTREAM", "_PORT", "_HOST", "_LISTEN"} {
		if strings.HasSuffix(key, suffix) && key != "NGINX_PORT" && key != "PUBLIC_URL" {
			return true
		}
	}
	return false
}

func (s *Stack) bin(name string) string { return filepath.Join(s.Bin, name) }

func (s *Stack) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Env = ProcessEnv().Merge(s.env).List()
	c.Dir = s.State
	return c
}

func always() bool { return true }

func (s *Stack) define() []*component {
	cfg := filepath.Join(s.State, "config")
	cs := []*component{
		s.postgres(),
		{
			name: "redis", enabled: always, timeout: 30 * time.Second,
			command: func() *exec.Cmd {
				dir := filepath.Join(s.State, "redis")
				_ = os.MkdirAll(dir, 0o755)
				// Append-only persistence: pending expirations survive a restart.
				return s.cmd("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port(portRedis)),
					"--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "60 1",
					"--daemonize", "no", "--protected-mode", "yes")
			},
			ready: func(ctx context.Context) error { return redisPing(ctx, s.addr(portRedis)) },
		},
		s.rabbitmq(),
		{
			// FerretDB keeps its data in the stack's PostgreSQL (database
			// ferretdb), not in its SQLite files: there every write to a
			// database waits for one lock, and concurrent writers fail
			// with SQLITE_BUSY under load (docs/performance.md).
			name: "ferretdb", stage: 1, enabled: always, timeout: 60 * time.Second,
			files: []string{s.bin("ferretdb")},
			command: func() *exec.Cmd {
				return s.cmd(s.bin("ferretdb"), "-listen", s.addr(portMongo), "-debug-addr", s.addr(portMongo+portDebugShift),
					"-postgresql-url", "postgres://postgres@"+s.addr(portPostgres)+"/ferretdb")
			},
			ready: func(ctx context.Context) error { return mongoHello(ctx, s.addr(portMongo)) },
		},
		{
			name: "stripe-mock", enabled: always, timeout: 60 * time.Second,
			files: []string{s.bin("stripe-mock")},
			command: func() *exec.Cmd {
				return s.cmd(s.bin("stripe-mock"), "-http-addr", s.addr(portStripe), "-https-addr", "127.0.0.1:0")
			},
			ready: func(ctx context.Context) error {
				return httpOK(ctx, "http://"+s.addr(portStripe)+"/v1/customers", "Authorization", "Bearer sk_test_local")
			},
		},
		{
			name: "kratos", stage: 1, enabled: always, timeout: 90 * time.Second,
			files: []string{s.bin("kratos"), filepath.Join(cfg, "kratos.yml"),
				filepath.Join(s.Root, "ory/kratos/identity.schema.json"), filepath.Join(s.Root, "ory/kratos/webhook-body.jsonnet")},
			prepare: func(ctx context.Context) error {
				return s.runLogged(ctx, "kratos", s.bin("kratos"), "migrate", "sql", "-e", "--yes", "-c", filepath.Join(cfg, "kratos.yml"))
			},
			command: func() *exec.Cmd {
				// --dev: plain HTTP on loopback (no Secure cookies), and a
				// bcrypt cost below 12 is accepted for the tests.
				return s.cmd(s.bin("kratos"), "serve", "--dev", "-c", filepath.Join(cfg, "kratos.yml"))
			},
			ready: func(ctx context.Context) error {
				return httpOK(ctx, "http://"+s.addr(portKratosAdmin)+"/admin/health/ready")
			},
		},
		{
			name: "keto", stage: 1, enabled: always, timeout: 90 * time.Second,
			files: []string{s.bin("keto"), filepath.Join(cfg, "keto.yml")},
			prepare: func(ctx context.Context) error {
				return s.runLogged(ctx, "keto", s.bin("keto"), "migrate", "up", "-y", "-c", filepath.Join(cfg, "keto.yml"))
			},
			command: func() *exec.Cmd { return s.cmd(s.bin("keto"), "serve", "-c", filepath.Join(cfg, "keto.yml")) },
			ready: func(ctx context.Context) error {
				return httpOK(ctx, "http://"+s.addr(portKetoRead)+"/health/ready")
			},
		},
	}
	for i, svc := range Services {
		port := portService + i
		cs = append(cs, &component{
			name: svc, stage: 2, timeout: 60 * time.Second,
			enabled: func() bool { return s.hasService(svc) },
			files:   []string{s.bin(svc)},
			command: func() *exec.Cmd {
				c := s.cmd(s.bin(svc))
				c.Env = append(c.Env, "HTTP_ADDR="+s.addr(port), "DEBUG_ADDR="+s.addr(port+portDebugShift),
					"MONGO_DATABASE="+svc, "SERVICE_NAME="+svc)
				c.Env = append(c.Env, s.overrides(svc).List()...)
				return c
			},
			ready: func(ctx context.Context) error { return httpOK(ctx, "http://"+s.addr(port)+"/readyz") },
		})
	}
	cs = append(cs, &component{
		name: "nginx", stage: 3, enabled: always, timeout: 30 * time.Second,
		files: []string{filepath.Join(cfg, "nginx.conf")},
		prepare: func(context.Context) error {
			return os.MkdirAll(filepath.Join(s.State, "nginx/tmp"), 0o755)
		},
		command: func() *exec.Cmd {
			return s.cmd("nginx", "-p", filepath.Join(s.State, "nginx"), "-c", filepath.Join(cfg, "nginx.conf"), "-g", "daemon off;")
		},
		ready: func(ctx context.Context) error { return httpAnswers(ctx, s.URL()+"/") },
	})
	for _, c := range cs {
		if c.stopSignal == 0 {
			c.stopSignal = signalFor(c.name)
		}
	}
	return cs
}

// hasService reports whether the service's code exists yet.
func (s *Stack) hasService(name string) bool {
	_, err := os.Stat(filepath.Join(s.Root, name, "main.go"))
	return err == nil
}

// runLogged runs a one-shot command (a migration) with its output in the
// component's log.
func (s *Stack) runLogged(ctx context.Context, name string, bin string, args ...string) error {
	if err := os.MkdirAll(filepath.Dir(s.logFile(name)), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(s.logFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env, c.Dir, c.Stdout, c.Stderr = ProcessEnv().Merge(s.env).List(), s.State, log, log
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args[:2], " "), err, tail(s.logFile(name), 15))
	}
	return nil
}

// asUser makes cmd run as the named system user when the runner is root
// (PostgreSQL refuses to run as root).
func asUser(cmd *exec.Cmd, name string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return nil
}
