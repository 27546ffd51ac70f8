package adapters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/testenv"
)

// newDatabase returns a fresh database of the server at TEST_MONGO_URI
// (FerretDB in the test stack), dropped after the test.
func newDatabase(t *testing.T) *mongo.Database {
	t.Helper()
	client, err := mongodb.Connect(testenv.Require(t, "TEST_MONGO_URI"))
	if err != nil {
		t.Fatal(err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	db := client.Database("orders_test_" + hex.EncodeToString(suffix[:]))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return db
}

func newMongoRepository(t *testing.T, db *mongo.Database) *adapters.MongoOrderRepository {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	repo, err := adapters.NewMongoOrderRepository(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Creating the indexes again, as every start-up does, is harmless.
	if _, err := adapters.NewMongoOrderRepository(ctx, db, nil); err != nil {
		t.Fatalf("second start-up: %v", err)
	}
	return repo
}

// forEachRepository runs test against the in-memory repository and the
// Mongo one on a fresh database.
func forEachRepository(t *testing.T, test func(t *testing.T, repo domain.Repository)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, adapters.NewMemoryOrderRepository())
	})
	t.Run("mongo", func(t *testing.T) {
		t.Parallel()
		test(t, newMongoRepository(t, newDatabase(t)))
	})
}

var ids = struct {
	sync.Mutex
	n int
}{}

// newTicketID returns a ticket id no other test uses.
func newTicketID() string {
	ids.Lock()
	defer ids.Unlock()
	ids.n++
	return fmt.Sprintf("%012x%012x", time.Now().UnixNano()&0xffffffffffff, ids.n)
}

func newOrder(t *testing.T, repo domain.Repository, buyer, seller, ticketID string) *domain.Order {
	t.Helper()
	tk := domain.Ticket{ID: ticketID, Title: "Concert", Price: 2500, Currency: "eur", SellerID: seller, Status: "available", Version: 1}
	o, err := domain.NewOrder(repo.NextID(), buyer, tk, time.Now(), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func cancel(o *domain.Order) (bool, error) { return o.Cancel() }

func TestRepository_ConcurrentOrdersOfOneTicketStoreExactlyOneActive(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		ticketID := newTicketID()
		const buyers = 50
		errs := make(chan error, buyers)
		var wg sync.WaitGroup
		for i := range buyers {
			o := newOrder(t, repo, fmt.Sprintf("buyer-%d", i), "seller", ticketID)
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- repo.Add(ctx, o, testHolds)
			}()
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, domain.ErrTicketUnavailable):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent orders were stored, want exactly 1", won, buyers)
		}
		stored, err := repo.List(ctx, domain.ListQuery{Role: domain.RoleSeller, UserID: "seller", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		active := 0
		for _, o := range stored {
			if o.ActiveTicketID() == ticketID {
				active++
			}
		}
		if len(stored) != 1 || active != 1 {
			t.Fatalf("stored %d orders, %d active; want exactly one active order", len(stored), active)
		}
	})
}

func TestRepository_AfterCancelANewOrderOfTheTicketSucceeds(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		ticketID := newTicketID()
		first := newOrder(t, repo, "buyer-1", "seller", ticketID)
		if err := repo.Add(ctx, first, testHolds); err != nil {
			t.Fatal(err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "buyer-2", "seller", ticketID), testHolds); !errors.Is(err, domain.ErrTicketUnavailable) {
			t.Fatalf("second order while the first holds the ticket: %v, want ErrTicketUnavailable", err)
		}
		cancelled, err := repo.Update(ctx, first.ID(), cancel)
		if err != nil || cancelled.Status() != domain.StatusCancelled || cancelled.Version() != 1 {
			t.Fatalf("cancel = %+v, %v", cancelled, err)
		}
		again := newOrder(t, repo, "buyer-2", "seller", ticketID)
		if err := repo.Add(ctx, again, testHolds); err != nil {
			t.Fatalf("order after the cancellation: %v", err)
		}
		got, err := repo.Get(ctx, again.ID())
		if err != nil || got.Status() != domain.StatusCreated || got.ActiveTicketID() != ticketID {
			t.Fatalf("new order read back as %+v, %v", got, err)
		}
	})
}

func TestRepository_CompleteOrderKeepsTheTicketAndRefundReleasesIt(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		ticketID := newTicketID()
		o := newOrder(t, repo, "buyer-1", "seller", ticketID)
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		const payment = "aaaaaaaaaaaaaaaaaaaaaaaa"
		done, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return reserveAndComplete(o, payment) })
		if err != nil || done.Status() != domain.StatusComplete || done.PaymentID() != payment || done.Version() != 1 {
			t.Fatalf("complete = %+v, %v", done, err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "buyer-2", "seller", ticketID), testHolds); !errors.Is(err, domain.ErrTicketUnavailable) {
			t.Fatalf("order of a sold ticket: %v, want ErrTicketUnavailable", err)
		}
		refunded, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return o.Refund(payment), nil })
		if err != nil || refunded.Status() != domain.StatusRefunded || refunded.Version() != 2 {
			t.Fatalf("refund = %+v, %v", refunded, err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "buyer-2", "seller", ticketID), testHolds); err != nil {
			t.Fatalf("order after the refund: %v", err)
		}
	})
}

func TestRepository_UnchangedUpdateWritesNothing(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		o := newOrder(t, repo, "buyer-1", "seller", newTicketID())
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := repo.Update(ctx, o.ID(), cancel); err != nil {
				t.Fatal(err)
			}
		}
		got, err := repo.Get(ctx, o.ID())
		if err != nil || got.Version() != 1 {
			t.Fatalf("after cancelling twice: %+v, %v; want version 1", got, err)
		}
		if _, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return reserveAndComplete(o, "aaaaaaaaaaaaaaaaaaaaaaaa") }); err != nil {
			t.Fatal(err)
		}
		if got, _ := repo.Get(ctx, o.ID()); got.Status() != domain.StatusCancelled || got.Version() != 1 {
			t.Fatalf("a late payment changed a cancelled order: %+v", got)
		}
	})
}

func TestRepository_ChangeErrorsReachTheCaller(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		o := newOrder(t, repo, "buyer-1", "seller", newTicketID())
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return reserveAndComplete(o, "aaaaaaaaaaaaaaaaaaaaaaaa") }); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Update(ctx, o.ID(), cancel); !errors.Is(err, domain.ErrOrderNotCancellable) {
			t.Fatalf("cancelling a complete order: %v, want ErrOrderNotCancellable", err)
		}
	})
}

func TestRepository_UnknownOrderIsNotFound(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		id := repo.NextID()
		if _, err := repo.Get(ctx, id); !errors.Is(err, domain.ErrOrderNotFound) {
			t.Errorf("Get = %v", err)
		}
		if _, err := repo.Update(ctx, id, cancel); !errors.Is(err, domain.ErrOrderNotFound) {
			t.Errorf("Update = %v", err)
		}
		if err := repo.GrantsDone(ctx, id); !errors.Is(err, domain.ErrOrderNotFound) {
			t.Errorf("GrantsDone = %v", err)
		}
	})
}

func TestRepository_ListsNewestFirstForBuyerAndSellerInPages(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		var bought []string // by buyer-1, from sellers A and B
		for i := range 5 {
			seller := "seller-A"
			if i%2 == 1 {
				seller = "seller-B"
			}
			o := newOrder(t, repo, "buyer-1", seller, newTicketID())
			if err := repo.Add(ctx, o, testHolds); err != nil {
				t.Fatal(err)
			}
			bought = append(bought, o.ID())
		}
		if err := repo.Add(ctx, newOrder(t, repo, "buyer-2", "seller-A", newTicketID()), testHolds); err != nil {
			t.Fatal(err)
		}
		var got []string
		after := ""
		for page := 0; page < 5; page++ {
			orders, err := repo.List(ctx, domain.ListQuery{Role: domain.RoleBuyer, UserID: "buyer-1", Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orders {
				got = append(got, o.ID())
			}
			if len(orders) < 2 {
				break
			}
			after = orders[len(orders)-1].ID()
		}
		want := []string{bought[4], bought[3], bought[2], bought[1], bought[0]}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("buyer's pages = %v, want newest first %v", got, want)
		}
		sold, err := repo.List(ctx, domain.ListQuery{Role: domain.RoleSeller, UserID: "seller-A", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(sold) != 4 || sold[0].BuyerID() != "buyer-2" {
			t.Fatalf("seller-A's orders: %d, newest by %s; want 4, newest by buyer-2", len(sold), sold[0].BuyerID())
		}
	})
}

func TestRepository_GrantsPendingUntilDone(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		o := newOrder(t, repo, "buyer-1", "seller", newTicketID())
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		pending, err := repo.GrantsPending(ctx, time.Now().Add(-time.Hour), 10)
		if err != nil || len(pending) != 0 {
			t.Fatalf("an order younger than the cutoff is listed: %d, %v", len(pending), err)
		}
		pending, err = repo.GrantsPending(ctx, time.Now().Add(time.Second), 10)
		if err != nil || len(pending) != 1 || pending[0].ID() != o.ID() {
			t.Fatalf("pending = %d, %v; want the new order", len(pending), err)
		}
		if err := repo.GrantsDone(ctx, o.ID()); err != nil {
			t.Fatal(err)
		}
		if pending, _ := repo.GrantsPending(ctx, time.Now().Add(time.Second), 10); len(pending) != 0 {
			t.Fatalf("still pending after GrantsDone: %d", len(pending))
		}
		if got, _ := repo.Get(ctx, o.ID()); got.Version() != 0 {
			t.Fatalf("GrantsDone changed the version to %d", got.Version())
		}
	})
}

// reserveAndComplete completes o as the events do: the ticket's
// reservation confirmed first, then the payment.
func reserveAndComplete(o *domain.Order, paymentID string) (bool, error) {
	o.ConfirmReservation()
	return o.Complete(paymentID), nil
}

// testHolds is the hold limit of the tests' buyers.
const testHolds = 5

func TestRepository_ConcurrentOrdersOfOneBuyerHoldAtMostMaxHolds(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		const tries = 20
		orders := make([]*domain.Order, tries)
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range orders {
			orders[i] = newOrder(t, repo, "hoarder", "seller", newTicketID())
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = repo.Add(ctx, orders[i], testHolds)
			}()
		}
		wg.Wait()
		var stored []*domain.Order
		for i, err := range errs {
			switch {
			case err == nil:
				stored = append(stored, orders[i])
			case !errors.Is(err, domain.ErrTooManyHolds):
				t.Errorf("order %d: %v, want nil or ErrTooManyHolds", i, err)
			}
		}
		if len(stored) != testHolds {
			t.Fatalf("%d of %d concurrent orders of one buyer were stored, want %d", len(stored), tries, testHolds)
		}
		listed, err := repo.List(ctx, domain.ListQuery{Role: domain.RoleBuyer, UserID: "hoarder", Limit: 100})
		if err != nil || len(listed) != testHolds {
			t.Fatalf("the buyer has %d orders stored (%v), want %d", len(listed), err, testHolds)
		}
		// Ending a hold frees its slot, and another buyer is not limited by
		// this one's holds.
		if _, err := repo.Update(ctx, stored[0].ID(), cancel); err != nil {
			t.Fatal(err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "hoarder", "seller", newTicketID()), testHolds); err != nil {
			t.Fatalf("order after a cancellation: %v", err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "hoarder", "seller", newTicketID()), testHolds); !errors.Is(err, domain.ErrTooManyHolds) {
			t.Fatalf("order beyond the limit again: %v, want ErrTooManyHolds", err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "other-buyer", "seller", newTicketID()), testHolds); err != nil {
			t.Fatalf("another buyer's order: %v", err)
		}
	})
}

func TestRepository_AFullBuyerOrderingAHeldTicketIsToldTheTicketIsTaken(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		taken := newTicketID()
		if err := repo.Add(ctx, newOrder(t, repo, "first", "seller", taken), testHolds); err != nil {
			t.Fatal(err)
		}
		if err := repo.Add(ctx, newOrder(t, repo, "second", "seller", taken), testHolds); !errors.Is(err, domain.ErrTicketUnavailable) {
			t.Fatalf("a held ticket: %v, want ErrTicketUnavailable", err)
		}
	})
}

func TestRepository_ConfirmationIsStoredWithoutAnEvent(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		o := newOrder(t, repo, "buyer", "seller", newTicketID())
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		slot := o.HoldKey()
		if !strings.HasPrefix(slot, "buyer:") {
			t.Fatalf("added order holds %q, want one of buyer's slots", slot)
		}
		got, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return o.ConfirmReservation(), nil })
		if err != nil || !got.Reserved() || got.Version() != 0 {
			t.Fatalf("confirmed order %+v, %v; want reserved at version 0", got, err)
		}
		if got, _ := repo.Get(ctx, o.ID()); !got.Reserved() || got.HoldKey() != slot {
			t.Fatalf("read back: reserved %v, hold %q; want reserved in slot %s", got.Reserved(), got.HoldKey(), slot)
		}
	})
}

// TestRepository_ARefundBeforeCompletionIsStoredWithoutAnEvent keeps a
// payment on a created order, refunds it, and reads back that the order
// forgot it and remembers the refund (so that the reservation, read from
// the store, does not complete the order with it), at version 0.
func TestRepository_ARefundBeforeCompletionIsStoredWithoutAnEvent(t *testing.T) {
	t.Parallel()
	const payment = "aaaaaaaaaaaaaaaaaaaaaaaa"
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		o := newOrder(t, repo, "buyer", "seller", newTicketID())
		if err := repo.Add(ctx, o, testHolds); err != nil {
			t.Fatal(err)
		}
		for _, step := range []func(*domain.Order) bool{
			func(o *domain.Order) bool { return o.Complete(payment) },
			func(o *domain.Order) bool { return o.Refund(payment) },
		} {
			if _, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return step(o), nil }); err != nil {
				t.Fatal(err)
			}
		}
		got, err := repo.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return o.ConfirmReservation(), nil })
		if err != nil || got.Status() != domain.StatusCreated || got.PaymentID() != "" || got.Version() != 0 {
			t.Fatalf("confirmed after the refund: %+v, %v; want created, unpaid, at version 0", got, err)
		}
		st := got.State()
		if st.PendingPayment != "" || st.RefundedPayment != payment || !st.Reserved {
			t.Fatalf("read back %+v; want no kept payment, %s remembered as refunded, reserved", st, payment)
		}
	})
}

func TestRepository_OverdueHoldsAreTheCreatedOrdersPastTheirWindow(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		held := newOrder(t, repo, "buyer-1", "seller", newTicketID())
		ended := newOrder(t, repo, "buyer-2", "seller", newTicketID())
		for _, o := range []*domain.Order{held, ended} {
			if err := repo.Add(ctx, o, testHolds); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := repo.Update(ctx, ended.ID(), cancel); err != nil {
			t.Fatal(err)
		}
		if got, err := repo.OverdueHolds(ctx, time.Now(), 10); err != nil || len(got) != 0 {
			t.Fatalf("before the windows end: %d overdue (%v), want 0", len(got), err)
		}
		got, err := repo.OverdueHolds(ctx, time.Now().Add(time.Hour), 10)
		if err != nil || len(got) != 1 || got[0].ID() != held.ID() {
			t.Fatalf("after the windows end: %v (%v), want only the created order %s", got, err, held.ID())
		}
	})
}
