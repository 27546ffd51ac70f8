package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ticketing/ticketing/pkg/ratelimit"
	"github.com/ticketing/ticketing/pkg/testenv"
)

// instances returns n separate clients of the test stack's Redis, standing
// for n instances of a service, and a prefix no other test run uses.
func instances(t *testing.T, n int) ([]*redis.Client, string) {
	t.Helper()
	addr := testenv.Require(t, "TEST_REDIS_ADDR")
	clients := make([]*redis.Client, n)
	for i := range clients {
		clients[i] = redis.NewClient(&redis.Options{Addr: addr, DB: 11, PoolSize: 32})
		t.Cleanup(func() { _ = clients[i].Close() })
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return clients, "test:" + hex.EncodeToString(b[:])
}

func TestLimiter_AdmitsLimitThenRefusesWithRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 1)
	l := ratelimit.NewLimiter(clients[0], prefix, ratelimit.Rate{Limit: 5, Period: 10 * time.Second})
	for i := range 5 {
		ok, _, err := l.Allow(ctx, "k")
		if err != nil || !ok {
			t.Fatalf("request %d: ok=%v err=%v, want admitted", i+1, ok, err)
		}
	}
	for i := range 3 { // refusals do not count: each one waits the same
		ok, retryAfter, err := l.Allow(ctx, "k")
		if err != nil || ok {
			t.Fatalf("request %d: ok=%v err=%v, want refused", 6+i, ok, err)
		}
		if retryAfter <= 0 || retryAfter > 2*time.Second {
			t.Fatalf("request %d: retryAfter %s, want in (0, 2s] (one emission interval)", 6+i, retryAfter)
		}
	}
	if ok, _, err := l.Allow(ctx, "other"); err != nil || !ok {
		t.Fatalf("another key: ok=%v err=%v, want admitted", ok, err)
	}
	other := ratelimit.NewLimiter(clients[0], prefix+":other", ratelimit.Rate{Limit: 1, Period: time.Minute})
	if ok, _, err := other.Allow(ctx, "k"); err != nil || !ok {
		t.Fatalf("same key under another prefix: ok=%v err=%v, want admitted", ok, err)
	}
}

// TestLimiter_CheckCountsNothing: Check answers what Allow would, without
// counting, so a caller can refuse first and count only what it did.
func TestLimiter_CheckCountsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 1)
	l := ratelimit.NewLimiter(clients[0], prefix, ratelimit.Rate{Limit: 2, Period: time.Hour})
	for i := range 5 {
		if ok, _, err := l.Check(ctx, "k"); err != nil || !ok {
			t.Fatalf("check %d of a fresh key: ok=%v err=%v, want admitted", i+1, ok, err)
		}
	}
	for i := range 2 {
		if ok, _, err := l.Allow(ctx, "k"); err != nil || !ok {
			t.Fatalf("request %d after the checks: ok=%v err=%v, want admitted (checks count nothing)", i+1, ok, err)
		}
	}
	ok, retryAfter, err := l.Check(ctx, "k")
	if err != nil || ok || retryAfter <= 25*time.Minute || retryAfter > 30*time.Minute {
		t.Fatalf("check over the rate: ok=%v retryAfter=%s err=%v, want refused for about 30m (one emission interval)", ok, retryAfter, err)
	}
	if ok, _, _ := l.Allow(ctx, "k"); ok {
		t.Fatal("Allow admitted what Check refused")
	}
}

func TestLimiter_AdmitsAgainAfterRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 1)
	l := ratelimit.NewLimiter(clients[0], prefix, ratelimit.Rate{Limit: 1, Period: 200 * time.Millisecond})
	if ok, _, err := l.Allow(ctx, "k"); err != nil || !ok {
		t.Fatalf("first: ok=%v err=%v", ok, err)
	}
	ok, retryAfter, err := l.Allow(ctx, "k")
	if err != nil || ok {
		t.Fatalf("second: ok=%v err=%v, want refused", ok, err)
	}
	start := time.Now()
	for deadline := start.Add(2 * time.Second); ; {
		if ok, _, err := l.Allow(ctx, "k"); err != nil {
			t.Fatal(err)
		} else if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused 2s later (retryAfter said %s)", retryAfter)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if waited := time.Since(start); waited+20*time.Millisecond < retryAfter {
		t.Fatalf("admitted after %s, before the promised %s", waited, retryAfter)
	}
}

// Several instances hammering one key admit exactly the limit: the count is
// one atomic script, not a read followed by a write.
func TestLimiter_ExactUnderConcurrencyAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 4)
	const limit, requests = 25, 200
	limiters := make([]*ratelimit.Limiter, len(clients))
	for i, c := range clients {
		limiters[i] = ratelimit.NewLimiter(c, prefix, ratelimit.Rate{Limit: limit, Period: time.Hour})
	}
	var mu sync.Mutex
	admitted := 0
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := limiters[i%len(limiters)].Allow(ctx, "hot")
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if admitted != limit {
		t.Fatalf("admitted %d of %d concurrent requests, want exactly %d", admitted, requests, limit)
	}
}

func TestBackoff_DelayDoublesPastFreeFailuresCappedAndResets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 1)
	b := ratelimit.NewBackoff(clients[0], prefix, ratelimit.Policy{
		Free: 2, Base: time.Second, Max: 5 * time.Second, Memory: time.Minute,
	})
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		got, err := b.Failure(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Fatalf("failure %d: delay %s, want %s", i+1, got, w)
		}
		wait, err := b.Check(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		if wait > w || (w > 0 && wait <= w-time.Second) {
			t.Fatalf("after failure %d: check %s, want about %s", i+1, wait, w)
		}
	}
	if wait, err := b.Check(ctx, "someone-else"); err != nil || wait != 0 {
		t.Fatalf("untouched key: wait %s err %v, want 0", wait, err)
	}
	if err := b.Reset(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	if wait, err := b.Check(ctx, "acct"); err != nil || wait != 0 {
		t.Fatalf("after reset: wait %s err %v, want 0", wait, err)
	}
	if got, err := b.Failure(ctx, "acct"); err != nil || got != 0 {
		t.Fatalf("first failure after reset: delay %s err %v, want 0 (count restarted)", got, err)
	}
}

// Concurrent failures from several instances are each counted once: the
// delays they report are exactly those of failures 1…n.
func TestBackoff_CountsEveryConcurrentFailureAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clients, prefix := instances(t, 4)
	policy := ratelimit.Policy{Free: 3, Base: time.Millisecond, Max: time.Hour, Memory: time.Hour}
	backoffs := make([]*ratelimit.Backoff, len(clients))
	for i, c := range clients {
		backoffs[i] = ratelimit.NewBackoff(c, prefix, policy)
	}
	const failures = 20
	got := make([]time.Duration, failures)
	var wg sync.WaitGroup
	for i := range failures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := backoffs[i%len(backoffs)].Failure(ctx, "acct")
			if err != nil {
				t.Error(err)
			}
			got[i] = d
		}()
	}
	wg.Wait()
	want := make([]time.Duration, failures)
	for n := range failures {
		if n >= policy.Free {
			want[n] = policy.Base << (n - policy.Free)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		valid bool
	}{
		{"rate", ratelimit.Rate{Limit: 10, Period: time.Minute}.Validate(), true},
		{"rate limit 0", ratelimit.Rate{Limit: 0, Period: time.Minute}.Validate(), false},
		{"rate period 0", ratelimit.Rate{Limit: 1}.Validate(), false},
		{"policy", ratelimit.Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Memory: time.Hour}.Validate(), true},
		{"policy negative free", ratelimit.Policy{Free: -1, Base: time.Second, Max: time.Second, Memory: time.Second}.Validate(), false},
		{"policy max below base", ratelimit.Policy{Base: time.Minute, Max: time.Second, Memory: time.Hour}.Validate(), false},
		{"policy memory below max", ratelimit.Policy{Base: time.Second, Max: time.Minute, Memory: time.Second}.Validate(), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.valid {
			t.Errorf("%s: err %v, want valid=%v", tt.name, tt.err, tt.valid)
		}
	}
}

func TestRate_UnmarshalText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want ratelimit.Rate
		ok   bool
	}{
		{"10/1m", ratelimit.Rate{Limit: 10, Period: time.Minute}, true},
		{"5/1s", ratelimit.Rate{Limit: 5, Period: time.Second}, true},
		{"1000000/1s", ratelimit.Rate{Limit: 1000000, Period: time.Second}, true},
		{"10", ratelimit.Rate{}, false},
		{"ten/1m", ratelimit.Rate{}, false},
		{"10/minute", ratelimit.Rate{}, false},
		{"0/1m", ratelimit.Rate{}, false},
		{"10/0s", ratelimit.Rate{}, false},
	}
	for _, tt := range tests {
		var got ratelimit.Rate
		err := got.UnmarshalText([]byte(tt.text))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v, ok=%v", tt.text, got, err, tt.want, tt.ok)
		}
	}
}
