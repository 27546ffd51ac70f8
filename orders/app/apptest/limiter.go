package apptest

import (
	"context"
	"sync"
	"time"

	"github.com/ticketing/ticketing/orders/app"
)

// Limiter admits Allowance requests per key, then refuses every other one
// with RetryAfter: the contract of a rate limiter without its clock.
type Limiter struct {
	Allowance  int
	RetryAfter time.Duration

	mu   sync.Mutex
	used map[string]int
}

var _ app.Limiter = (*Limiter)(nil)

// Check implements app.Limiter: what Allow would answer, counting nothing.
func (l *Limiter) Check(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used[key] >= l.Allowance {
		return false, l.RetryAfter, nil
	}
	return true, 0, nil
}

// Allow implements app.Limiter; a refused request is not counted.
func (l *Limiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used == nil {
		l.used = map[string]int{}
	}
	if l.used[key] >= l.Allowance {
		return false, l.RetryAfter, nil
	}
	l.used[key]++
	return true, 0, nil
}
