package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server the runner started: its pid and the fingerprint of the
// binary and configuration it was started with, kept in the state folder so
// that `down` stops exactly what `up` started, and `up` restarts a server only
// when what it runs has changed.
type process struct {
	Pid         int
	Fingerprint string
}

func (s *Stack) pidFile(name string) string {
	return filepath.Join(s.State, "pids", name+".pid")
}

func (s *Stack) logFile(name string) string {
	return filepath.Join(s.State, "logs", name+".log")
}

func (s *Stack) readProcess(name string) (process, bool) {
	b, err := os.ReadFile(s.pidFile(name))
	if err != nil {
		return process{}, false
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return process{}, false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return process{}, false
	}
	p := process{Pid: pid}
	if len(fields) > 1 {
		p.Fingerprint = fields[1]
	}
	return p, true
}

func (s *Stack) writeProcess(name string, p process) error {
	if err := os.MkdirAll(filepath.Dir(s.pidFile(name)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(s.pidFile(name), []byte(fmt.Sprintf("%d %s\n", p.Pid, p.Fingerprint)), 0o644)
}

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S …".
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// spawn starts cmd in its own session, detached from the runner, with its
// output appended to the component's log file.
func (s *Stack) spawn(name string, cmd *exec.Cmd) (int, error) {
	if err := os.MkdirAll(filepath.Dir(s.logFile(name)), 0o755); err != nil {
		return 0, err
	}
	log, err := os.OpenFile(s.logFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	// Reap the child if it dies while this runner still lives, so that a
	// crashed server is seen as dead rather than as a zombie.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}

// stopProcess sends sig to the process group of pid, then SIGKILL after
// grace, and waits until the process is gone.
func stopProcess(pid int, sig syscall.Signal, grace time.Duration) {
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
	deadline := time.Now().Add(grace)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 100 && alive(pid); i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
