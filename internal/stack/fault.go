package stack

import (
	"fmt"
	"syscall"
	"time"
)

// terminateGrace is how long Terminate waits for a clean exit: longer than
// a service's own shutdown bounds (requests in flight, consumers, the last
// outbox pass) together.
const terminateGrace = 45 * time.Second

// Kill crashes the named component: SIGKILL to the pid the stack recorded
// (and its process group), as the kernel's OOM killer or a power cut would,
// with no chance to finish requests, ack messages or flush its outbox. It
// returns once the process is gone; Start brings it back.
func (s *Stack) Kill(name string) error {
	pid, err := s.runningPid(name)
	if err != nil {
		return err
	}
	if !signalAndWait(pid, syscall.SIGKILL, 10*time.Second) {
		return fmt.Errorf("%s (pid %d) survived SIGKILL", name, pid)
	}
	s.logf("%s: killed (pid %d)", name, pid)
	return nil
}

// Terminate asks the named component to stop, as an orchestrator does
// before a rolling update (SIGTERM), and waits for it to exit by itself. A
// component still running after terminateGrace is an error: it is then
// killed, so that the stack is in a known state either way. Start brings it
// back.
func (s *Stack) Terminate(name string) error {
	pid, err := s.runningPid(name)
	if err != nil {
		return err
	}
	if !signalAndWait(pid, syscall.SIGTERM, terminateGrace) {
		stopProcess(pid, syscall.SIGKILL, 0)
		return fmt.Errorf("%s (pid %d) did not exit within %s of SIGTERM; killed", name, pid, terminateGrace)
	}
	s.logf("%s: exited after SIGTERM (pid %d)", name, pid)
	return nil
}

// runningPid is the pid of the named component, which must be running.
func (s *Stack) runningPid(name string) (int, error) {
	if s.component(name) == nil {
		return 0, fmt.Errorf("no component %q", name)
	}
	p, ok := s.readProcess(name)
	if !ok || !alive(p.Pid) {
		return 0, fmt.Errorf("%s is not running", name)
	}
	return p.Pid, nil
}

// signalAndWait sends sig to pid and its process group and reports whether
// the process was gone within wait.
func signalAndWait(pid int, sig syscall.Signal, wait time.Duration) bool {
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
	deadline := time.Now().Add(wait)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
