package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CPU is the processor time each part of the machine used: every component
// of the stack (the process whose pid the stack keeps in
// <state>/pids/<name>.pid and all its descendants: RabbitMQ counts its
// Erlang helpers) and the load generator. PostgreSQL's backends are
// counted per database ("postgres (kratos)"): it serves FerretDB, Kratos
// and Keto; what exited backends used stays with "postgres".
type CPU map[string]time.Duration

// userHZ is the unit of the times in /proc/<pid>/stat, fixed by Linux's ABI.
const userHZ = 100

// SampleCPU reads the CPU time used so far by each component of the stack
// in stateDir and by this process.
func SampleCPU(stateDir string) (CPU, error) {
	leaders := map[int]string{}
	pidFiles, err := filepath.Glob(filepath.Join(stateDir, "pids", "*.pid"))
	if err != nil {
		return nil, err
	}
	for _, f := range pidFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // stopped meanwhile
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		if pid, err := strconv.Atoi(fields[0]); err == nil {
			leaders[pid] = strings.TrimSuffix(filepath.Base(f), ".pid")
		}
	}
	leaders[os.Getpid()] = "loadgen"
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	parent, used := map[int]int{}, map[int]int64{}
	for _, p := range procs {
		if pid, ppid, ticks, ok := readStat(p); ok {
			parent[pid], used[pid] = ppid, ticks
		}
	}
	out := CPU{}
	for pid, ticks := range used {
		// The nearest ancestor (or the process itself) that is a component.
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if name, ok := leaders[p]; ok {
				if name == "postgres" && pid != p {
					name = postgresPart(pid)
				}
				out[name] += ticksToDuration(ticks)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process of the stack in %s found in /proc", stateDir)
	}
	return out, nil
}

// postgresPart names a PostgreSQL backend by its database, from the title
// PostgreSQL gives it ("postgres: <user> <database> <client> <state>");
// background workers are "postgres".
func postgresPart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "postgres"
	}
	title, ok := strings.CutPrefix(strings.TrimRight(string(b), "\x00"), "postgres: ")
	f := strings.Fields(title)
	if !ok || len(f) < 3 || !strings.Contains(f[2], "(") {
		return "postgres"
	}
	return "postgres (" + f[1] + ")"
}

// readStat parses /proc/<pid>/stat: the pid, its parent, and the CPU time
// of the process and of its children it has waited for (a PostgreSQL
// backend that exited is counted in the postmaster's).
func readStat(path string) (pid, ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, 0, 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b[:bytes.IndexByte(b, '(')])))
	if err != nil {
		return 0, 0, 0, false
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state): the parent is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return 0, 0, 0, false
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, 0, false
	}
	for _, i := range []int{11, 12, 13, 14} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		ticks += n
	}
	return pid, ppid, ticks, true
}

func ticksToDuration(ticks int64) time.Duration {
	return time.Duration(ticks) * time.Second / userHZ
}

// Since is the CPU used between earlier and c, per part.
func (c CPU) Since(earlier CPU) CPU {
	out := CPU{}
	for name, d := range c {
		if used := d - earlier[name]; used > 0 {
			out[name] = used
		}
	}
	return out
}

// Total is the CPU used by every part together.
func (c CPU) Total() time.Duration {
	var total time.Duration
	for _, d := range c {
		total += d
	}
	return total
}

// Largest returns the parts by CPU used, largest first.
func (c CPU) Largest() []string {
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if c[names[i]] != c[names[j]] {
			return c[names[i]] > c[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}
