package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/payments/adapters"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/testenv"
)

const buyer = "6a1f7c1e-0000-4000-8000-000000000001"

func newID() string { return primitive.NewObjectID().Hex() }

// freshDB is a database of its own for one test, dropped afterwards.
func freshDB(t *testing.T) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.Require(t, "TEST_MONGO_URI")))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(fmt.Sprintf("payments_test_%d", time.Now().UnixNano()))
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	return db
}

func newMongoRepository(t *testing.T) (*adapters.MongoPaymentRepository, *mongo.Database) {
	t.Helper()
	db := freshDB(t)
	r, err := adapters.NewMongoPaymentRepository(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, db
}

// repositories runs a contract case against every implementation: the
// real one on the test stack's FerretDB, and the memory one the use-case
// tests use.
func repositories(t *testing.T, run func(t *testing.T, r domain.Repository)) {
	t.Run("mongo", func(t *testing.T) {
		t.Parallel()
		r, _ := newMongoRepository(t)
		run(t, r)
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, adapters.NewMemoryPaymentRepository())
	})
}

func createdOrder(amount int64) domain.Order {
	return domain.Order{ID: newID(), BuyerID: buyer, SellerID: "seller", Status: domain.OrderCreated, Amount: amount, Currency: "eur"}
}

func newPayment(t *testing.T, r domain.Repository, o domain.Order) *domain.Payment {
	t.Helper()
	p, err := domain.NewPayment(r.NextID(), o, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// outbox reads the events stored with a payment.
func outbox(t *testing.T, db *mongo.Database, id string) []events.Envelope {
	t.Helper()
	var doc struct {
		Outbox []events.Envelope `bson:"outbox"`
	}
	if err := db.Collection(adapters.PaymentsCollection).FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Outbox
}

func TestPayments_OnePaymentPerOrderUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	repositories(t, testOnePaymentPerOrder)
}

func testOnePaymentPerOrder(t *testing.T, r domain.Repository) {
	ctx := context.Background()
	o := createdOrder(2500)
	const callers = 20
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		added, existing int
	)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.Add(ctx, newPayment(t, r, o))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added++
			case errors.Is(err, domain.ErrPaymentExists):
				existing++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if added != 1 || existing != callers-1 {
		t.Fatalf("added %d, refused %d; want 1 and %d", added, existing, callers-1)
	}
	if _, err := r.ByOrder(ctx, o.ID); err != nil {
		t.Fatalf("the winner is not stored: %v", err)
	}
}

func TestMongoPayments_ConcurrentInsertsStoreOneDocument(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	testOnePaymentPerOrder(t, r)
	n, err := db.Collection(adapters.PaymentsCollection).CountDocuments(context.Background(), bson.M{})
	if err != nil || n != 1 {
		t.Fatalf("%d payments stored (%v), want 1", n, err)
	}
}

func TestPayments_AddStoresThePaymentFlaggedForGrants(t *testing.T) {
	t.Parallel()
	repositories(t, func(t *testing.T, r domain.Repository) {
		testAddFlagsGrants(t, r)
	})
}

func TestMongoPayments_PendingPaymentRecordsNoEvent(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	p := testAddFlagsGrants(t, r)
	if len(outbox(t, db, p.ID())) != 0 {
		t.Fatal("a pending payment recorded an event")
	}
}

func testAddFlagsGrants(t *testing.T, r domain.Repository) *domain.Payment {
	ctx := context.Background()
	p := newPayment(t, r, createdOrder(2500))
	if err := r.Add(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := r.ByOrder(ctx, p.OrderID())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != p.ID() || got.Status() != domain.StatusPending || got.Amount() != 2500 || got.Currency() != "eur" || got.UserID() != buyer {
		t.Fatalf("read back %+v", got)
	}
	flagged, err := r.GrantsPending(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(flagged) != 1 {
		t.Fatalf("flagged %d (%v), want the new payment", len(flagged), err)
	}
	if err := r.GrantsDone(ctx, p.ID()); err != nil {
		t.Fatal(err)
	}
	if flagged, _ := r.GrantsPending(ctx, time.Now().Add(time.Minute), 10); len(flagged) != 0 {
		t.Fatal("the flag survived GrantsDone")
	}
	return p
}

func TestMongoPayments_FreePaymentIsStoredWithItsEvent(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	p := newPayment(t, r, createdOrder(0))
	if err := r.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	box := outbox(t, db, p.ID())
	if len(box) != 1 || box[0].Type != events.PaymentSucceeded {
		t.Fatalf("outbox %+v, want payment.succeeded.v1", box)
	}
	data, err := events.DecodeData[events.Payment](box[0])
	if err != nil || data.Status != "succeeded" || data.Amount != 0 || data.Version != 0 {
		t.Fatalf("event data %+v (%v)", data, err)
	}
}

func TestPayments_AttachIntentIsFoundByStripeID(t *testing.T) {
	t.Parallel()
	repositories(t, testAttachIntent)
}

func testAttachIntent(t *testing.T, r domain.Repository) {
	ctx := context.Background()
	p := newPayment(t, r, createdOrder(2500))
	if err := r.Add(ctx, p); err != nil {
		t.Fatal(err)
	}
	stripeID := "pi_" + newID()
	if _, err := r.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		return p.AttachIntent(stripeID, stripeID+"_secret_x"), nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := r.ByStripeID(ctx, stripeID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != p.ID() || got.ClientSecret() != stripeID+"_secret_x" || got.Version() != 1 {
		t.Fatalf("read back %+v", got)
	}
	if _, err := r.ByStripeID(ctx, "pi_unknown"); !errors.Is(err, domain.ErrPaymentNotFound) {
		t.Fatalf("unknown intent: %v", err)
	}
}

func TestPayments_StripeEventsAppliedOnce(t *testing.T) {
	t.Parallel()
	repositories(t, func(t *testing.T, r domain.Repository) {
		testStripeEventsAppliedOnce(t, r)
	})
}

func TestMongoPayments_StripeEventsRecordTheirEventsInTheSameWrite(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	p := testStripeEventsAppliedOnce(t, r)
	box := outbox(t, db, p.ID())
	if len(box) != 2 || box[0].Type != events.PaymentSucceeded || box[1].Type != events.PaymentRefunded {
		t.Fatalf("outbox %v, want succeeded then refunded", types(box))
	}
	last, _ := events.DecodeData[events.Payment](box[1])
	if last.Status != "refunded" || last.Version != 3 || last.StripeID != "pi_1" {
		t.Fatalf("refunded event data %+v", last)
	}
}

func testStripeEventsAppliedOnce(t *testing.T, r domain.Repository) *domain.Payment {
	ctx := context.Background()
	p := newPayment(t, r, createdOrder(2500))
	p.AttachIntent("pi_1", "pi_1_secret")
	if err := r.Add(ctx, p); err != nil {
		t.Fatal(err)
	}
	apply := func(e domain.StripeEvent) bool {
		changed := false
		if _, err := r.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
			changed = p.ApplyStripeEvent(e, time.Now()).Changed()
			return changed, nil
		}); err != nil {
			t.Fatal(err)
		}
		return changed
	}
	succeeded := domain.StripeEvent{ID: "evt_" + newID(), Type: domain.IntentSucceeded, PaymentIntentID: "pi_1", Amount: 2500, Currency: "eur"}
	// The same event delivered by 10 concurrent webhook calls applies once.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
	)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if apply(succeeded) {
				mu.Lock()
				applied++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if applied != 1 {
		t.Fatalf("applied %d times, want once", applied)
	}
	got, err := r.Get(ctx, p.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != domain.StatusSucceeded || !got.Applied(succeeded.ID) || got.Version() != 2 || got.StripeID() != "pi_1" {
		t.Fatalf("read back status %s version %d events %v", got.Status(), got.Version(), got.StripeEvents())
	}
	refunded := domain.StripeEvent{ID: "evt_" + newID(), Type: domain.ChargeRefunded, PaymentIntentID: "pi_1", Amount: 2500, ChargeAmount: 2500, Currency: "eur"}
	if !apply(refunded) || apply(refunded) || apply(succeeded) {
		t.Fatal("refund applied other than once, or the old success applied again")
	}
	return p
}

func TestPayments_UpdateOfUnknownPayment(t *testing.T) {
	t.Parallel()
	repositories(t, func(t *testing.T, r domain.Repository) {
		_, err := r.Update(context.Background(), newID(), func(*domain.Payment) (bool, error) { return true, nil })
		if !errors.Is(err, domain.ErrPaymentNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func types(envs []events.Envelope) []events.Name {
	out := make([]events.Name, len(envs))
	for i, e := range envs {
		out[i] = e.Type
	}
	return out
}

func TestOrderReplica_AppliesOnlyNewerVersions(t *testing.T) {
	t.Parallel()
	t.Run("mongo", func(t *testing.T) {
		t.Parallel()
		testReplica(t, adapters.NewMongoOrderReplica(freshDB(t)))
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		testReplica(t, adapters.NewMemoryOrderReplica())
	})
}

func testReplica(t *testing.T, r domain.OrderReplica) {
	ctx := context.Background()
	o := createdOrder(2500)
	if _, err := r.Get(ctx, o.ID); !errors.Is(err, domain.ErrOrderNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	cancelled := o
	cancelled.Status, cancelled.Version = domain.OrderCancelled, 1
	for _, step := range []struct {
		o    domain.Order
		want bool
	}{{cancelled, true}, {o, false}, {cancelled, false}} {
		applied, err := r.Apply(ctx, step.o)
		if err != nil || applied != step.want {
			t.Fatalf("apply v%d: %v, %v; want %v", step.o.Version, applied, err, step.want)
		}
	}
	got, err := r.Get(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != cancelled {
		t.Fatalf("read back %+v, want %+v", got, cancelled)
	}
}

func TestPayments_ReviewIsStoredAndListedByStatus(t *testing.T) {
	t.Parallel()
	repositories(t, testReviewStoredAndListed)
}

// testReviewStoredAndListed holds three payments for review and reads
// them back: the review record whole, the list newest first in keyset
// pages, only the status asked for.
func testReviewStoredAndListed(t *testing.T, r domain.Repository) {
	ctx := context.Background()
	var held []string
	for i := 0; i < 4; i++ {
		p := newPayment(t, r, createdOrder(2500))
		p.AttachIntent("pi_"+p.ID(), "")
		if err := r.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			break // stays pending
		}
		e := domain.StripeEvent{ID: "evt_" + p.ID(), Type: domain.IntentSucceeded, PaymentIntentID: p.StripeID(), Amount: 100, Currency: "usd"}
		if _, err := r.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
			return p.ApplyStripeEvent(e, time.Now()).Changed(), nil
		}); err != nil {
			t.Fatal(err)
		}
		held = append(held, p.ID())
	}
	got, err := r.Get(ctx, held[0])
	if err != nil {
		t.Fatal(err)
	}
	rv := got.Review()
	if got.Status() != domain.StatusReview || rv == nil || rv.EventID != "evt_"+held[0] || rv.Amount != 100 || rv.Currency != "usd" ||
		len(rv.Reasons) != 2 || rv.Reasons[0] != domain.MismatchAmount || rv.Reasons[1] != domain.MismatchCurrency || rv.HeldAt.IsZero() {
		t.Fatalf("read back %s, review %+v", got.Status(), rv)
	}
	first, err := r.List(ctx, domain.ListQuery{Status: domain.StatusReview, Limit: 2})
	if err != nil || len(first) != 2 || first[0].ID() != held[2] || first[1].ID() != held[1] {
		t.Fatalf("first page %v (%v), want %s %s", ids(first), err, held[2], held[1])
	}
	rest, err := r.List(ctx, domain.ListQuery{Status: domain.StatusReview, Limit: 2, After: first[1].ID()})
	if err != nil || len(rest) != 1 || rest[0].ID() != held[0] {
		t.Fatalf("second page %v (%v), want %s", ids(rest), err, held[0])
	}
	if _, err := r.Update(ctx, held[0], func(p *domain.Payment) (bool, error) {
		return p.Resolve(domain.ResolveAccept, "admin", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = r.Get(ctx, held[0])
	if rv := got.Review(); got.Status() != domain.StatusSucceeded || rv.Resolution != domain.ResolveAccept || rv.ResolvedBy != "admin" || rv.ResolvedAt.IsZero() {
		t.Fatalf("resolved: %s, review %+v", got.Status(), rv)
	}
	if left, _ := r.List(ctx, domain.ListQuery{Status: domain.StatusReview, Limit: 10}); len(left) != 2 {
		t.Fatalf("after resolving one, %d listed", len(left))
	}
}

func TestMongoPayments_ReviewPublishesNothingItsResolutionDoes(t *testing.T) {
	t.Parallel()
	r, db := newMongoRepository(t)
	ctx := context.Background()
	p := newPayment(t, r, createdOrder(2500))
	p.AttachIntent("pi_1", "")
	if err := r.Add(ctx, p); err != nil {
		t.Fatal(err)
	}
	short := domain.StripeEvent{ID: "evt_short", Type: domain.IntentSucceeded, PaymentIntentID: "pi_1", Amount: 1, Currency: "eur"}
	if _, err := r.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		return p.ApplyStripeEvent(short, time.Now()).Changed(), nil
	}); err != nil {
		t.Fatal(err)
	}
	if box := outbox(t, db, p.ID()); len(box) != 0 {
		t.Fatalf("holding for review stored %v", types(box))
	}
	if _, err := r.Update(ctx, p.ID(), func(p *domain.Payment) (bool, error) {
		return p.Resolve(domain.ResolveAccept, "admin", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	box := outbox(t, db, p.ID())
	if len(box) != 1 || box[0].Type != events.PaymentSucceeded {
		t.Fatalf("outbox %v after accepting, want payment.succeeded", types(box))
	}
}

func ids(ps []*domain.Payment) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID()
	}
	return out
}
