package adapters

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketing/ticketing/orders/app"
)

// Rate is Limit requests per Period, written "LIMIT/PERIOD" in a setting
// (e.g. "10/1m", PERIOD a Go duration).
type Rate struct {
	Limit  int
	Period time.Duration
}

// UnmarshalText reads "LIMIT/PERIOD".
func (r *Rate) UnmarshalText(text []byte) error {
	limit, period, ok := strings.Cut(string(text), "/")
	if !ok {
		return fmt.Errorf("rate %q: want LIMIT/PERIOD, e.g. 10/1m", text)
	}
	n, err := strconv.Atoi(limit)
	if err != nil || n < 1 {
		return fmt.Errorf("rate %q: the limit must be a whole number ≥ 1", text)
	}
	d, err := time.ParseDuration(period)
	if err != nil || d <= 0 {
		return fmt.Errorf("rate %q: the period must be a positive Go duration", text)
	}
	*r = Rate{Limit: n, Period: d}
	return nil
}

// MemoryLimiter admits requests per key at a Rate within this process:
// up to Limit at once, then one every Period/Limit (the generic cell rate
// algorithm: one time per key, no timers). With several instances each
// admits its own share; a limiter shared through Redis is the step after.
type MemoryLimiter struct {
	rate Rate
	now  func() time.Time

	mu  sync.Mutex
	tat map[string]time.Time // key → theoretical arrival time
}

var _ app.Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns a limiter admitting rate per key.
func NewMemoryLimiter(rate Rate) *MemoryLimiter {
	return &MemoryLimiter{rate: rate, now: time.Now, tat: map[string]time.Time{}}
}

// maxIdleKeys is how many keys the limiter keeps before it forgets the
// idle ones (whose allowance is whole again): memory stays bounded by the
// keys active within one Period.
const maxIdleKeys = 10_000

// Allow implements app.Limiter. A refused request is not counted.
func (l *MemoryLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	interval := l.rate.Period / time.Duration(l.rate.Limit)
	burst := l.rate.Period - interval
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - burst; wait > 0 {
		return false, wait, nil
	}
	if len(l.tat) >= maxIdleKeys {
		l.forgetIdle(now)
	}
	l.tat[key] = tat.Add(interval)
	return true, 0, nil
}

func (l *MemoryLimiter) forgetIdle(now time.Time) {
	for k, t := range l.tat {
		if !t.After(now) {
			delete(l.tat, k)
		}
	}
}
