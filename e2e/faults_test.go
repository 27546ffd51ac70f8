package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// Fault tests take a dependency away and bring it back. Like the expiry
// tests they do not call t.Parallel, so they run alone.

// outage stops a component of the stack and registers its restart, so the
// stack is whole again even when the test fails half-way.
func outage(t *testing.T, name string) (restore func()) {
	t.Helper()
	s := testStack(t)
	if err := s.Stop(name); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.Start(ctx, name); err != nil {
			t.Fatalf("restarting %s: %v", name, err)
		}
	}
	t.Cleanup(restore)
	return restore
}

func TestFaults_KratosDownIs503ThenRecovers(t *testing.T) {
	seller := signUp(t, "kratos-down")
	restore := outage(t, "kratos")
	// The token was never checked by the tickets service, so no cache can
	// answer for Kratos.
	do(t, request{Method: "POST", Path: "/api/tickets", Token: seller.Token, Body: map[string]any{"title": "Outage", "price": 100}}).
		wantError(t, http.StatusServiceUnavailable, "dependency_unavailable", "")
	do(t, request{Method: "GET", Path: "/api/users/current-user", Token: seller.Token}).
		wantError(t, http.StatusServiceUnavailable, "dependency_unavailable", "")
	restore()
	eventually(t, 30*time.Second, "sessions never worked again after Kratos came back", func() bool {
		return do(t, request{Method: "GET", Path: "/api/users/current-user", Token: seller.Token}).Status == http.StatusOK
	})
	createTicket(t, seller, uniqueTitle("After Kratos"), 100)
}

func TestFaults_KetoDownIs503ThenRecovers(t *testing.T) {
	seller, stranger := signUp(t, "keto-down"), signUp(t, "keto-stranger")
	tk := createTicket(t, seller, uniqueTitle("Before Keto outage"), 100)
	restore := outage(t, "keto")
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: seller.Token, Body: map[string]any{"price": 200}}).
		wantError(t, http.StatusServiceUnavailable, "dependency_unavailable", "")
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: stranger.Token, Body: map[string]any{"price": 1}}).
		wantError(t, http.StatusServiceUnavailable, "dependency_unavailable", "")
	if got := getTicket(t, tk.ID); got.Price != 100 || got.Version != 0 {
		t.Fatalf("a refused PATCH changed the ticket: %+v", got)
	}
	restore()
	eventually(t, 30*time.Second, "permission checks never worked again after Keto came back", func() bool {
		return do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: seller.Token, Body: map[string]any{"price": 200}}).Status == http.StatusOK
	})
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: stranger.Token, Body: map[string]any{"price": 1}}).
		wantError(t, http.StatusForbidden, "", "")
}

func TestFaults_RedisRestartKeepsPendingExpirations(t *testing.T) {
	shortHoldWindow(t, 8*time.Second)
	seller, buyer := signUp(t, "redis-seller"), signUp(t, "redis-buyer")
	tk := createTicket(t, seller, uniqueTitle("Redis restart"), 700)
	o := placeOrder(t, buyer, tk.ID)
	in := timeouts(t)
	eventually(t, 15*time.Second, "the timeout was never scheduled", func() bool {
		info, err := in.GetTaskInfo("expiration", o.ID)
		return err == nil && info.State == asynq.TaskStateScheduled
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := testStack(t).Restart(ctx, "redis"); err != nil {
		t.Fatal(err)
	}
	info, err := in.GetTaskInfo("expiration", o.ID)
	if err != nil {
		t.Fatalf("the pending timeout did not survive the Redis restart: %v", err)
	}
	if info.State != asynq.TaskStateScheduled && info.State != asynq.TaskStateActive && info.State != asynq.TaskStateCompleted {
		t.Fatalf("timeout state after the restart: %v", info.State)
	}
	eventually(t, 45*time.Second, "the order never expired after the Redis restart", func() bool {
		return getOrder(t, buyer, o.ID).Status == "cancelled"
	})
	waitTicket(t, tk.ID, "available", "")
}
