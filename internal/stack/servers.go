package stack

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// postgres is a private PostgreSQL cluster in the state folder, holding the
// kratos, keto and ferretdb databases. Kratos on SQLite fails under a few
// concurrent sign-ins (docs/performance.md), FerretDB on SQLite under a few
// concurrent writers (docs/performance.md), hence PostgreSQL.
func (s *Stack) postgres() *component {
	base := s.postgresBase()
	data := filepath.Join(base, "postgres")
	run := filepath.Join(base, "postgres-run")
	addr := s.addr(portPostgres)
	return &component{
		name: "postgres", enabled: always, timeout: 30 * time.Second,
		prepare: func(ctx context.Context) error {
			if err := os.MkdirAll(base, 0o755); err != nil {
				return err
			}
			for _, d := range []string{data, run} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					return err
				}
				if err := chownTo(d, "postgres"); err != nil {
					return err
				}
			}
			if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
				return nil
			}
			s.logf("postgres: initialising a private cluster in %s", data)
			c := exec.CommandContext(ctx, pgBin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions")
			c.Dir = base // initdb as postgres cannot enter a private working folder
			if err := asUser(c, "postgres"); err != nil {
				return err
			}
			if out, err := c.CombinedOutput(); err != nil {
				return fmt.Errorf("initdb: %w: %s", err, out)
			}
			return nil
		},
		command: func() *exec.Cmd {
			// Kratos, Keto and FerretDB (50 at most) each keep a pool.
			c := s.cmd(pgBin("postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(s.port(portPostgres)), "-k", run,
				"-c", "max_connections=200")
			c.Dir = data
			_ = asUser(c, "postgres")
			return c
		},
		ready: func(ctx context.Context) error {
			return commandOK(ctx, pgBin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port(portPostgres)))
		},
		after: func(ctx context.Context) error {
			for _, db := range []string{"kratos", "keto", "ferretdb"} {
				out, err := exec.CommandContext(ctx, pgBin("psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.port(portPostgres)),
					"-U", "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname='"+db+"'").Output()
				if err != nil {
					return fmt.Errorf("psql on %s: %w", addr, err)
				}
				if len(out) > 0 {
					continue
				}
				if err := commandOK(ctx, pgBin("createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.port(portPostgres)), "-U", "postgres", db); err != nil {
					return err
				}
			}
			out, err := exec.CommandContext(ctx, pgBin("psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.port(portPostgres)),
				"-U", "postgres", "-d", "ferretdb", "-v", "ON_ERROR_STOP=1", "-qc", ferretdbSQL).CombinedOutput()
			if err != nil {
				return fmt.Errorf("indexing FerretDB's lookups: %w: %s", err, out)
			}
			return nil
		},
	}
}

// ferretdbSQL prepares the database FerretDB stores its data in.
//
//go:embed ferretdb.sql
var ferretdbSQL string

// postgresBase is where the cluster lives: the state folder, unless the
// postgres user (the server refuses to run as root) cannot reach it — a
// checkout under a private home folder — in which case a folder of this
// stack's own under the system's temporary directory, which Wipe deletes too.
func (s *Stack) postgresBase() string {
	if os.Geteuid() != 0 || othersCanTraverse(s.State) {
		return s.State
	}
	sum := sha256.Sum256([]byte(s.State))
	return filepath.Join(os.TempDir(), "ticketing-postgres-"+hex.EncodeToString(sum[:6]))
}

// othersCanTraverse reports whether every existing folder above dir lets
// other users through (the execute bit for others).
func othersCanTraverse(dir string) bool {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if info, err := os.Stat(d); err == nil && info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// pgBin finds a PostgreSQL program in the newest Debian install.
func pgBin(name string) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	return name
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func chownTo(path, name string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// rabbitmq is a RabbitMQ node of its own (own node name, ports, epmd and
// data folder), so that two stacks can run side by side.
func (s *Stack) rabbitmq() *component {
	dir := filepath.Join(s.State, "rabbitmq")
	node := fmt.Sprintf("ticketing%d@localhost", s.PortOffset)
	env := []string{
		"HOME=" + dir, // the Erlang cookie lives here
		"RABBITMQ_NODENAME=" + node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(s.port(portAMQP)),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(s.port(portErlDist)),
		"ERL_EPMD_PORT=" + strconv.Itoa(s.port(portEPMD)),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbitmq.pid"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
	}
	epmd := func() {
		c := exec.Command("epmd", "-kill")
		c.Env = append(os.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(s.port(portEPMD)))
		_ = c.Run()
	}
	return &component{
		name: "rabbitmq", enabled: always, timeout: 90 * time.Second,
		prepare: func(context.Context) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			conf := "# written by the local stack runner: AMQP on loopback only\nlisteners.tcp.1 = " + s.addr(portAMQP) + "\n"
			if err := os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte(conf), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[].\n"), 0o644)
		},
		command: func() *exec.Cmd {
			c := s.cmd(rabbitServer())
			c.Env = append(c.Env, env...)
			c.Dir = dir
			return c
		},
		ready:   func(ctx context.Context) error { return amqpHandshake(ctx, s.addr(portAMQP)) },
		cleanup: epmd,
	}
}

// rabbitServer is the server script itself: Debian's /usr/sbin wrapper
// switches to the rabbitmq user and a fixed data folder when run as root.
func rabbitServer() string {
	const direct = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(direct); err == nil {
		return direct
	}
	return "rabbitmq-server"
}
