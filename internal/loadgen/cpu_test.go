package loadgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSampleCPU_CountsAComponentAndItsChildren runs a shell as a component
// that burns CPU in a child, and expects the child's time under the
// component's name.
func TestSampleCPU_CountsAComponentAndItsChildren(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here: NOT tested")
	}
	state := t.TempDir()
	if err := os.MkdirAll(filepath.Join(state, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A child counts to 200,000 (tenths of a second of CPU) while its
	// parent waits for it; then the parent sleeps.
	cmd := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' & wait; sleep 5`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pidFile := filepath.Join(state, "pids", "spinner.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+" fingerprint\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := SampleCPU(state)
	if err != nil {
		t.Fatal(err)
	}
	var after CPU
	for deadline := time.Now().Add(5 * time.Second); ; {
		if after, err = SampleCPU(state); err != nil {
			t.Fatal(err)
		}
		if after["spinner"] >= 20*time.Millisecond || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after["spinner"] < 20*time.Millisecond || after.Since(before)["spinner"] > after["spinner"] {
		t.Fatalf("spinner used %s in all, want its child's counting (samples %v, %v)", after["spinner"], before, after)
	}
	if _, ok := after["loadgen"]; !ok {
		t.Errorf("no CPU of the load generator itself in %v", after)
	}
	if names := after.Largest(); len(names) == 0 || after.Total() < after[names[0]] {
		t.Errorf("Largest %v / Total %s inconsistent", names, after.Total())
	}
}
