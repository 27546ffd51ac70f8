package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// counts is an in-memory limiter and backoff for this unit test of
// Attempts' keys and decisions (pkg/ratelimit is tested on the real Redis):
// a key is refused, or backed off, once it has seen limit hits.
type counts struct {
	mu    sync.Mutex
	limit int
	hits  map[string]int
}

func newCounts(limit int) *counts { return &counts{limit: limit, hits: map[string]int{}} }

func (c *counts) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits[key]++
	return c.hits[key] <= c.limit, time.Second, nil
}

func (c *counts) Check(_ context.Context, key string) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits[key] >= c.limit {
		return time.Minute, nil
	}
	return 0, nil
}

func (c *counts) Failure(_ context.Context, key string) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits[key]++
	return 0, nil
}

func (c *counts) Reset(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.hits, key)
	return nil
}

// newAttempts limits generously by address and account (1000), backs an
// account off at one address after 3 failures and everywhere after 10.
func newAttempts() *app.Attempts {
	return &app.Attempts{
		PerAddress: newCounts(1000), PerIdentifier: newCounts(1000),
		PerAccountAndAddress: newCounts(3), PerAccount: newCounts(10),
		Logger: slog.New(slog.DiscardHandler),
	}
}

func TestAttempts_BacksOffTheAccountAtOneAddressOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAttempts()
	attacker := app.Attempt{Kind: app.PasswordCheck, Address: "2001:db8:1:2::7", Identifier: "owner@example.com"}
	for range 3 {
		if err := a.Admit(ctx, attacker); err != nil {
			t.Fatalf("free failure refused: %v", err)
		}
		a.Record(ctx, attacker, app.Failed)
	}
	tests := []struct {
		name   string
		at     app.Attempt
		status int
	}{
		{"the attacker", attacker, http.StatusTooManyRequests},
		{"the attacker's /64", app.Attempt{Kind: app.PasswordCheck, Address: "2001:db8:1:2::99", Identifier: "owner@example.com"}, http.StatusTooManyRequests},
		{"the owner elsewhere", app.Attempt{Kind: app.PasswordCheck, Address: "2001:db8:1:3::7", Identifier: "owner@example.com"}, 0},
		{"another account at the attacker's address", app.Attempt{Kind: app.PasswordCheck, Address: "2001:db8:1:2::7", Identifier: "other@example.com"}, 0},
		{"a registration of the account at the attacker's address", app.Attempt{Kind: app.AccountMail, Address: "2001:db8:1:2::7", Identifier: "owner@example.com"}, 0},
	}
	for _, tt := range tests {
		err := a.Admit(ctx, tt.at)
		if tt.status == 0 && err != nil || tt.status != 0 && apierr.Status(err) != tt.status {
			t.Errorf("%s: Admit = %v, want status %d", tt.name, err, tt.status)
		}
		if e, ok := apierr.As(err); ok && e.RetryAfter <= 0 {
			t.Errorf("%s: refusal without a retry delay", tt.name)
		}
	}
	a.Record(ctx, attacker, app.Succeeded) // the right password, once admitted again
	if err := a.Admit(ctx, attacker); err != nil {
		t.Fatalf("after a success: %v, want the failures forgotten", err)
	}
}

func TestAttempts_AccountEverywhereAfterManyAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAttempts()
	for i := range 10 {
		at := app.Attempt{Kind: app.PasswordCheck, Address: fmt.Sprintf("198.51.100.%d", i+1), Identifier: "owner@example.com"}
		if err := a.Admit(ctx, at); err != nil {
			t.Fatalf("failure %d from a fresh address refused: %v", i+1, err)
		}
		a.Record(ctx, at, app.Failed)
	}
	err := a.Admit(ctx, app.Attempt{Kind: app.PasswordCheck, Address: "203.0.113.1", Identifier: "owner@example.com"})
	if apierr.Status(err) != http.StatusTooManyRequests {
		t.Fatalf("after failures from 10 addresses: %v, want 429 for the account everywhere", err)
	}
}
