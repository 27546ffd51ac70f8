package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// debianPackages maps a program the stack runs to the Debian package that
// provides it.
var debianPackages = []struct{ program, pkg string }{
	{"rabbitmq-server", "rabbitmq-server"},
	{"redis-server", "redis-server"},
	{"nginx", "nginx-light"},
	{"pg_isready", "postgresql"},
}

// install installs the Debian packages whose programs are missing. It runs
// apt-get update first, as a fresh machine has no package lists.
func (s *Stack) install(ctx context.Context) error {
	var missing []string
	for _, p := range debianPackages {
		if !haveProgram(p.program) {
			missing = append(missing, p.pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing Debian packages %s: install them (sudo apt-get install %s) or run as root",
			strings.Join(missing, ", "), strings.Join(missing, " "))
	}
	start := time.Now()
	s.logf("installing Debian packages: %s", strings.Join(missing, " "))
	for _, args := range [][]string{
		{"update", "-q"},
		append([]string{"install", "-y", "-q", "--no-install-recommends"}, missing...),
	} {
		c := exec.CommandContext(ctx, "apt-get", args...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		c.Stdout, c.Stderr = s.Out, s.Out
		if err := c.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	// Debian starts some servers on install where it can; the stack runs
	// its own on its own ports, so those are left alone.
	s.logf("installed in %s", time.Since(start).Round(time.Second))
	return nil
}

func haveProgram(name string) bool {
	if name == "pg_isready" {
		return pgBin(name) != name
	}
	if name == "rabbitmq-server" && rabbitServer() != name {
		return true
	}
	_, err := exec.LookPath(name)
	return err == nil
}
