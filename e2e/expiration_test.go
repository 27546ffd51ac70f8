package e2e

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/pkg/events"
)

// The tests of this file restart services of the stack, so none calls
// t.Parallel: the testing package runs them one at a time, before the
// parallel tests.

// testStack controls the stack under test (the one `make test` started).
func testStack(t testing.TB) *stack.Stack {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	o, err := stack.Profile("test", root, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stack.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// shortHoldWindow restarts the orders service with a hold window of d for
// the rest of the test, and restores it afterwards.
func shortHoldWindow(t *testing.T, d time.Duration) {
	t.Helper()
	s := testStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.RestartWith(ctx, "orders", stack.Env{"ORDER_EXPIRATION_WINDOW": d.String()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.RestartWith(ctx, "orders", nil); err != nil {
			t.Errorf("restoring the orders service: %v", err)
		}
	})
}

// timeouts inspects the expiration service's Asynq queue in Redis.
func timeouts(t testing.TB) *asynq.Inspector {
	t.Helper()
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: stackEnv["TEST_REDIS_ADDR"]})
	t.Cleanup(func() { _ = in.Close() })
	return in
}

func TestExpiry_ShortWindowCancelsReleasesAndRefundsALatePayment(t *testing.T) {
	shortHoldWindow(t, 5*time.Second)
	seller, buyer, next := signUp(t, "exp-seller"), signUp(t, "exp-buyer"), signUp(t, "exp-next")
	tk := createTicket(t, seller, uniqueTitle("Expiring"), 2500)
	before := time.Now()
	o := placeOrder(t, buyer, tk.ID)
	if o.ExpiresAt.Before(before) || o.ExpiresAt.After(time.Now().Add(5*time.Second)) {
		t.Fatalf("expiresAt %s is not the 5 s window after %s", o.ExpiresAt, before)
	}
	p := pay(t, buyer, o) // pending when the window ends

	// The window ends: the order is cancelled and the ticket is free.
	eventually(t, 30*time.Second, "the order never expired", func() bool {
		return getOrder(t, buyer, o.ID).Status == "cancelled"
	})
	waitTicket(t, tk.ID, "available", "")
	waitPaymentsReplica(t, o.ID, "cancelled")
	do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": o.ID}}).
		wantError(t, http.StatusConflict, "", "")

	// Another buyer takes the ticket; then Stripe reports the first
	// buyer's payment as succeeded, late.
	o2 := placeOrder(t, next, tk.ID)
	waitTicket(t, tk.ID, "reserved", o2.ID)
	deliver(t, stripeEvent(t, "succeeded", p.ID)).wantStatus(t, http.StatusOK)
	waitPayment(t, buyer, p.ID, "refunded")
	if got := getOrder(t, buyer, o.ID); got.Status != "cancelled" {
		t.Fatalf("the expired order became %s after the late payment", got.Status)
	}
	if got := getOrder(t, next, o2.ID); got.Status != "created" {
		t.Fatalf("the other buyer's order became %s", got.Status)
	}
	if got := getTicket(t, tk.ID); got.Status != "reserved" || got.OrderID != o2.ID {
		t.Fatalf("ticket %+v, want still reserved to %s", got, o2.ID)
	}
}

func TestExpiry_FiresAfterTheExpirationServiceRestarts(t *testing.T) {
	shortHoldWindow(t, 6*time.Second)
	s := testStack(t)
	seller, buyer := signUp(t, "restart-seller"), signUp(t, "restart-buyer")
	tk := createTicket(t, seller, uniqueTitle("Restart"), 900)
	o := placeOrder(t, buyer, tk.ID)
	in := timeouts(t)
	eventually(t, 15*time.Second, "the timeout was never scheduled", func() bool {
		info, err := in.GetTaskInfo("expiration", o.ID)
		return err == nil && info.State == asynq.TaskStateScheduled
	})
	if err := s.Stop("expiration"); err != nil {
		t.Fatal(err)
	}
	// The window ends while the service is down; nothing can expire it.
	eventually(t, 30*time.Second, "waiting for the window to end", func() bool { return time.Now().After(o.ExpiresAt.Add(time.Second)) })
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("the order became %s while the expiration service was down", got.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Start(ctx, "expiration"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the order never expired after the restart", func() bool {
		return getOrder(t, buyer, o.ID).Status == "cancelled"
	})
	waitTicket(t, tk.ID, "available", "")
}

func TestExpiry_RedeliveredOrderCreatedSchedulesOneTimeout(t *testing.T) {
	seller := signUp(t, "dup-seller")
	tk := createTicket(t, seller, uniqueTitle("Scheduled once"), 100)
	orderID := newObjectID()
	created := craftedOrder(t, events.OrderCreated, orderID, 0, "created", tk)
	publish(t, created, created, created)
	in := timeouts(t)
	eventually(t, 15*time.Second, "the timeout was never scheduled", func() bool {
		_, err := in.GetTaskInfo("expiration", orderID)
		return err == nil
	})
	// Let every copy reach the service, then count the order's tasks.
	eventually(t, 15*time.Second, "the expiration queue never drained", func() bool {
		return queueDepth(t, "expiration.events") == 0
	})
	tasks, err := in.ListScheduledTasks("expiration", asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		if task.ID == orderID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d scheduled timeouts for order %s after three deliveries, want 1", n, orderID)
	}
	// Cancelling the order removes its timeout.
	publish(t, craftedOrder(t, events.OrderCancelled, orderID, 1, "cancelled", tk))
	eventually(t, 15*time.Second, "the cancelled order's timeout is still scheduled", func() bool {
		_, err := in.GetTaskInfo("expiration", orderID)
		return err != nil
	})
}
