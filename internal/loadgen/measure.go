// Package loadgen drives a running stack through nginx, the way many
// buyers and sellers would, and measures it: the machine's ceilings (raw
// inserts, nginx, the Ory calls), the project's own figures, a sustained
// order run and a flash sale. cmd/loadgen writes what it measures into
// docs/performance.md.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Op performs one request of worker w (i counts the operations issued so
// far) and returns its HTTP status, or 0 and an error when no answer came.
type Op func(ctx context.Context, w, i int) (int, error)

// Result is what one measured run did.
type Result struct {
	// Name says what was measured.
	Name string
	// Workers is the concurrency: how many requests were in flight at most.
	Workers int
	// Elapsed is the measured window.
	Elapsed time.Duration
	// OK counts the answers in the 2xx range; Status counts every status,
	// Errors the requests that got no answer (first one in FirstErr).
	OK       int
	Status   map[int]int
	Errors   int
	FirstErr error
	// Latencies of the 2xx answers.
	P50, P95, P99, Max time.Duration
}

// PerSecond is the rate of 2xx answers over the window.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// ServerErrors counts the 5xx answers.
func (r Result) ServerErrors() int {
	n := 0
	for s, c := range r.Status {
		if s >= 500 {
			n += c
		}
	}
	return n
}

// StatusLine lists every status seen with its count, "201×812 409×3".
func (r Result) StatusLine() string {
	codes := make([]int, 0, len(r.Status))
	for s := range r.Status {
		codes = append(codes, s)
	}
	slices.Sort(codes)
	out := ""
	for _, s := range codes {
		out += fmt.Sprintf("%d×%d ", s, r.Status[s])
	}
	if r.Errors > 0 {
		out += fmt.Sprintf("no-answer×%d ", r.Errors)
	}
	if out == "" {
		return "none"
	}
	return out[:len(out)-1]
}

// recorder collects the samples of one run from many goroutines.
type recorder struct {
	mu       sync.Mutex
	ok       []time.Duration
	status   map[int]int
	errors   int
	firstErr error
}

func newRecorder() *recorder { return &recorder{status: map[int]int{}} }

func (r *recorder) add(status int, err error, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && status == 0 {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
		return
	}
	r.status[status]++
	if status >= 200 && status < 300 {
		r.ok = append(r.ok, took)
	}
}

func (r *recorder) result(name string, workers int, elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Name: name, Workers: workers, Elapsed: elapsed, OK: len(r.ok),
		Status: r.status, Errors: r.errors, FirstErr: r.firstErr}
	res.P50, res.P95, res.P99, res.Max = percentiles(r.ok)
	return res
}

// percentiles returns the 50th, 95th and 99th percentiles (nearest rank)
// and the maximum of d, sorting it.
func percentiles(d []time.Duration) (p50, p95, p99, longest time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return rank(0.50), rank(0.95), rank(0.99), d[len(d)-1]
}

// ClosedLoop runs op from workers goroutines, each issuing its next request
// as soon as the last one answered, for d or until limit requests were
// issued (0: no limit), whichever comes first. Requests in flight at the
// end run to their answer and count; the window ends with the last one.
func ClosedLoop(ctx context.Context, name string, workers int, d time.Duration, limit int, op Op) Result {
	rec := newRecorder()
	var issued atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				i := int(issued.Add(1)) - 1
				if limit > 0 && i >= limit {
					return
				}
				t0 := time.Now()
				status, err := op(ctx, w, i)
				if errors.Is(err, errPoolEmpty) {
					return
				}
				rec.add(status, err, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return rec.result(name, workers, time.Since(start))
}

// Paced issues op at rate per second for d, from at most maxInFlight
// goroutines: an open loop, so a slow system meets the same arrivals rather
// than fewer. Latency counts from the moment a request was due, so time
// spent waiting for a free worker is not hidden.
func Paced(ctx context.Context, name string, rate float64, d time.Duration, maxInFlight int, op Op) Result {
	rec := newRecorder()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	n := int(rate * d.Seconds())
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			status, err := op(ctx, i%maxInFlight, i)
			if !errors.Is(err, errPoolEmpty) {
				rec.add(status, err, time.Since(due))
			}
		}()
	}
	wg.Wait()
	return rec.result(name, maxInFlight, time.Since(start))
}
