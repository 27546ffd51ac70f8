package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/ticketing/payments/adapters"
	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

const (
	buyer    = "user-buyer"
	seller   = "user-seller"
	stranger = "user-stranger"
	admin    = "user-admin"
)

// permissions is Keto's policy over the relationships the fixture knows:
// the buyer edits and views the order, the seller views it; the payment's
// owner and admins may refund; viewers of the payment are its owner,
// whoever views its order, and admins.
type permissions struct {
	mu      sync.Mutex
	granted map[string]string // payment id → order id
	owners  map[string]string // payment id → buyer
	fail    error
}

func newPermissions() *permissions {
	return &permissions{granted: map[string]string{}, owners: map[string]string{}}
}

func (p *permissions) CanEditOrder(_ context.Context, userID, _ string) (bool, error) {
	return userID == buyer, p.fail
}

func (p *permissions) CanViewOrder(_ context.Context, userID, _ string) (bool, error) {
	return userID == buyer || userID == seller || userID == admin, p.fail
}

func (p *permissions) CanViewPayment(ctx context.Context, userID, paymentID string) (bool, error) {
	p.mu.Lock()
	orderID, ok := p.granted[paymentID]
	p.mu.Unlock()
	if !ok {
		return false, p.fail
	}
	return p.CanViewOrder(ctx, userID, orderID)
}

func (p *permissions) CanRefundPayment(_ context.Context, userID, paymentID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (p.owners[paymentID] == userID && userID != "") || (userID == admin && p.granted[paymentID] != ""), p.fail
}

func (p *permissions) IsAdmin(_ context.Context, userID string) (bool, error) {
	return userID == admin, p.fail
}

func (p *permissions) GrantPayment(_ context.Context, pay *domain.Payment) error {
	if p.fail != nil {
		return p.fail
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.granted[pay.ID()] = pay.OrderID()
	p.owners[pay.ID()] = pay.UserID()
	return nil
}

// stripe plays Stripe: like the real one, the same order's idempotency key
// answers the same PaymentIntent.
type stripe struct {
	mu         sync.Mutex
	intents    map[string]string // order id → intent id
	created    int
	refunds    map[string]int // intent id → refund calls
	failIntent error
	failRefund error
}

func newStripe() *stripe { return &stripe{intents: map[string]string{}, refunds: map[string]int{}} }

func (s *stripe) CreateIntent(_ context.Context, r app.IntentRequest) (app.Intent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failIntent != nil {
		return app.Intent{}, s.failIntent
	}
	id, ok := s.intents[r.OrderID]
	if !ok {
		s.created++
		id = fmt.Sprintf("pi_%d", s.created)
		s.intents[r.OrderID] = id
	}
	return app.Intent{ID: id, ClientSecret: id + "_secret_x"}, nil
}

func (s *stripe) Refund(_ context.Context, _, stripeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRefund != nil {
		return s.failRefund
	}
	s.refunds[stripeID]++
	return nil
}

// ordersService plays the orders service behind the replica: it knows the
// orders put in it, shows them to their buyer only, and counts calls.
type ordersService struct {
	mu     sync.Mutex
	orders map[string]domain.Order
	calls  int
	fail   error
}

func (s *ordersService) Order(ctx context.Context, id string) (domain.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return domain.Order{}, s.fail
	}
	o, ok := s.orders[id]
	if !ok || o.BuyerID != callerOf(ctx) {
		return domain.Order{}, domain.ErrOrderNotFound
	}
	return o, nil
}

type callerKey struct{}

// as is ctx on behalf of userID, whose session the orders service sees.
func as(userID string) context.Context {
	return context.WithValue(context.Background(), callerKey{}, userID)
}

func callerOf(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

type fixture struct {
	app      app.Application
	payments *adapters.MemoryPaymentRepository
	orders   *adapters.MemoryOrderReplica
	source   *ordersService
	perms    *permissions
	stripe   *stripe
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		payments: adapters.NewMemoryPaymentRepository(),
		orders:   adapters.NewMemoryOrderReplica(),
		source:   &ordersService{orders: map[string]domain.Order{}},
		perms:    newPermissions(),
		stripe:   newStripe(),
	}
	log := slog.New(slog.DiscardHandler)
	refunder := app.NewRefunder(f.payments, f.stripe, log)
	f.app = app.Application{
		CreatePayment:     app.NewCreatePaymentHandler(f.payments, f.orders, f.source, f.perms, f.stripe),
		GetPayment:        app.NewGetPaymentHandler(f.payments, f.perms),
		RefundPayment:     app.NewRefundPaymentHandler(f.payments, f.orders, f.source, f.perms, refunder),
		ResolvePayment:    app.NewResolvePaymentHandler(f.payments, f.orders, f.perms, refunder, log),
		ListPayments:      app.NewListPaymentsHandler(f.payments, f.perms),
		HandleStripeEvent: app.NewHandleStripeEventHandler(f.payments, f.orders, refunder, log),
		ApplyOrder:        app.NewApplyOrderHandler(f.orders, f.payments, refunder, log),
		RepairGrants:      app.NewRepairGrantsHandler(f.payments, f.perms, log),
	}
	return f
}

// order puts a created order of amount into the replica, as order.created
// would.
func (f *fixture) order(t *testing.T, amount int64) domain.Order {
	t.Helper()
	o := domain.Order{ID: primitive.NewObjectID().Hex(), BuyerID: buyer, SellerID: seller, Status: domain.OrderCreated, Amount: amount, Currency: "eur"}
	if err := f.app.ApplyOrder.Handle(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) pay(t *testing.T, o domain.Order) *domain.Payment {
	t.Helper()
	p, created, err := f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || !created {
		t.Fatalf("pay: created=%v err=%v", created, err)
	}
	return p
}

func (f *fixture) webhook(t *testing.T, e domain.StripeEvent) domain.Outcome {
	t.Helper()
	outcome, err := f.app.HandleStripeEvent.Handle(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return outcome
}

func (f *fixture) cancel(t *testing.T, o domain.Order, version int64) error {
	t.Helper()
	o.Status, o.Version = domain.OrderCancelled, version
	return f.app.ApplyOrder.Handle(context.Background(), o)
}

// complete marks the order complete in the replica, as order.completed
// would once its payment succeeded and its ticket was reserved.
func (f *fixture) complete(t *testing.T, o domain.Order) {
	t.Helper()
	o.Status, o.Version = domain.OrderComplete, 1
	if err := f.app.ApplyOrder.Handle(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, kind apierr.Kind, code string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || e.Kind != kind || e.Code != code {
		t.Fatalf("err = %v, want %v %s", err, kind, code)
	}
}

func succeededEvent(p *domain.Payment) domain.StripeEvent {
	return domain.StripeEvent{ID: "evt_ok_" + p.ID(), Type: domain.IntentSucceeded, PaymentIntentID: p.StripeID(), OrderID: p.OrderID(),
		Amount: p.Amount(), Currency: p.Currency()}
}

func TestCreatePayment_CreatesIntentAndGrantsBeforeAnswering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	p := f.pay(t, o)
	if p.Status() != domain.StatusPending || p.StripeID() != "pi_1" || p.ClientSecret() != "pi_1_secret_x" || p.Amount() != 2500 {
		t.Fatalf("payment %+v", p)
	}
	if ok, _ := f.perms.CanViewPayment(context.Background(), buyer, p.ID()); !ok {
		t.Fatal("tuples not written before the answer")
	}
	if flagged, _ := f.payments.GrantsPending(context.Background(), time.Now().Add(time.Hour), 10); len(flagged) != 0 {
		t.Fatal("grants flag not cleared")
	}
}

func TestCreatePayment_SameCallAgainAnswersTheSamePayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	first := f.pay(t, o)
	again, created, err := f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || created || again.ID() != first.ID() || again.StripeID() != first.StripeID() {
		t.Fatalf("second call: created=%v err=%v payment %+v", created, err, again)
	}
	// Also once it failed: the buyer retries the same PaymentIntent.
	f.webhook(t, domain.StripeEvent{ID: "evt_f", Type: domain.IntentFailed, PaymentIntentID: first.StripeID()})
	again, created, err = f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || created || again.Status() != domain.StatusFailed {
		t.Fatalf("after failure: created=%v err=%v status %s", created, err, again.Status())
	}
}

func TestCreatePayment_ConcurrentCallsMakeOnePaymentAndOneIntent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]bool{}
		created int
	)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, c, err := f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[p.ID()+"/"+p.StripeID()] = true
			if c {
				created++
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 || f.stripe.created != 1 {
		t.Fatalf("payments/intents %v, created %d, intents created %d", ids, created, f.stripe.created)
	}
}

func TestCreatePayment_RetryFinishesWhatStripeFailed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	f.stripe.failIntent = apierr.Upstream("Stripe", errors.New("boom"))
	_, _, err := f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	wantKind(t, err, apierr.KindUpstream, "upstream_failed")
	f.stripe.failIntent = nil
	p, created, err := f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || created || p.StripeID() != "pi_1" {
		t.Fatalf("retry: created=%v err=%v stripeId %q", created, err, p.StripeID())
	}
}

func TestCreatePayment_FreeOrderSucceedsWithoutStripe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.pay(t, f.order(t, 0))
	if p.Status() != domain.StatusSucceeded || p.StripeID() != "" || f.stripe.created != 0 {
		t.Fatalf("free payment %+v, intents %d", p, f.stripe.created)
	}
}

// tuplesAppearing is Keto while the orders service repairs the tuples of
// an order whose creation crashed before them: they appear after the first
// Order#edit check.
type tuplesAppearing struct {
	*permissions
	edits atomic.Int64
}

func (p *tuplesAppearing) CanEditOrder(ctx context.Context, userID, orderID string) (bool, error) {
	if p.edits.Add(1) == 1 {
		return false, nil
	}
	return p.permissions.CanEditOrder(ctx, userID, orderID)
}

func TestCreatePayment_BuyerWhoseTuplesAppearMidCheckMayPay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	create := app.NewCreatePaymentHandler(f.payments, f.orders, f.source, &tuplesAppearing{permissions: f.perms}, f.stripe)
	p, created, err := create.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || !created || p.OrderID() != o.ID {
		t.Fatalf("Handle() = %v, %v, %v; want the buyer's payment", p, created, err)
	}
}

func TestCreatePayment_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	o := f.order(t, 2500)
	_, _, err := f.app.CreatePayment.Handle(ctx, app.CreatePayment{UserID: stranger, OrderID: o.ID})
	wantKind(t, err, apierr.KindNotFound, "order_not_found")
	_, _, err = f.app.CreatePayment.Handle(ctx, app.CreatePayment{UserID: seller, OrderID: o.ID})
	wantKind(t, err, apierr.KindForbidden, "not_order_buyer")

	for i, status := range []domain.OrderStatus{domain.OrderCancelled, domain.OrderComplete, domain.OrderRefunded} {
		done := f.order(t, 2500)
		done.Status, done.Version = status, int64(i+1)
		if err := f.app.ApplyOrder.Handle(ctx, done); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.app.CreatePayment.Handle(ctx, app.CreatePayment{UserID: buyer, OrderID: done.ID})
		wantKind(t, err, apierr.KindConflict, "order_not_payable")
	}

	f.perms.fail = apierr.Unavailable("Keto", errors.New("down"))
	_, _, err = f.app.CreatePayment.Handle(ctx, app.CreatePayment{UserID: buyer, OrderID: o.ID})
	wantKind(t, err, apierr.KindUnavailable, "dependency_unavailable")
}

func TestCreatePayment_AsksOrdersForAnOrderTheReplicaLacks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The buyer pays before order.created reached payments.
	o := domain.Order{ID: primitive.NewObjectID().Hex(), BuyerID: buyer, SellerID: seller, Status: domain.OrderCreated, Amount: 1500, Currency: "usd"}
	f.source.orders[o.ID] = o
	p, created, err := f.app.CreatePayment.Handle(as(buyer), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	if err != nil || !created || p.Amount() != 1500 || p.Currency() != "usd" {
		t.Fatalf("created=%v err=%v payment=%+v", created, err, p)
	}
	// The answer is kept as the event would keep it: the next call and the
	// event itself find it in the replica.
	if got, err := f.orders.Get(context.Background(), o.ID); err != nil || got != o {
		t.Fatalf("replica holds %+v (%v), want %+v", got, err, o)
	}
	if err := f.app.ApplyOrder.Handle(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, created, err := f.app.CreatePayment.Handle(as(buyer), app.CreatePayment{UserID: buyer, OrderID: o.ID}); err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if f.source.calls != 1 {
		t.Errorf("orders asked %d times, want once", f.source.calls)
	}
}

func TestCreatePayment_OrderMissingOrOrdersDown(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fail     error
		wantKind apierr.Kind
		wantCode string
	}{
		{"orders does not show it", nil, apierr.KindNotFound, "order_not_found"},
		{"orders is unreachable", apierr.Unavailable("the orders service", errors.New("connection refused")), apierr.KindUnavailable, "dependency_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.source.fail = c.fail
			orderID := primitive.NewObjectID().Hex()
			_, _, err := f.app.CreatePayment.Handle(as(buyer), app.CreatePayment{UserID: buyer, OrderID: orderID})
			wantKind(t, err, c.wantKind, c.wantCode)
			if p, err := f.payments.ByOrder(context.Background(), orderID); !errors.Is(err, domain.ErrPaymentNotFound) {
				t.Errorf("a payment was stored: %+v (%v)", p, err)
			}
		})
	}
}

func TestCreatePayment_FetchedOrderThatEndedIsNotPayable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := domain.Order{ID: primitive.NewObjectID().Hex(), BuyerID: buyer, SellerID: seller, Status: domain.OrderCancelled, Amount: 100, Currency: "eur", Version: 1}
	f.source.orders[o.ID] = o
	_, _, err := f.app.CreatePayment.Handle(as(buyer), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	wantKind(t, err, apierr.KindConflict, "order_not_payable")
	// An older version arriving afterwards does not revive it.
	older := o
	older.Status, older.Version = domain.OrderCreated, 0
	if err := f.app.ApplyOrder.Handle(context.Background(), older); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.app.CreatePayment.Handle(as(buyer), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	wantKind(t, err, apierr.KindConflict, "order_not_payable")
}

func TestStripeEvent_SucceededOnceThenDuplicate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.pay(t, f.order(t, 2500))
	e := succeededEvent(p)
	if got := f.webhook(t, e); got != domain.OutcomeApplied {
		t.Fatalf("first delivery: %s", got)
	}
	if got := f.webhook(t, e); got != domain.OutcomeDuplicate {
		t.Fatalf("second delivery: %s", got)
	}
	stored, _ := f.payments.Get(context.Background(), p.ID())
	if stored.Status() != domain.StatusSucceeded || stored.Version() != 2 {
		t.Fatalf("status %s version %d", stored.Status(), stored.Version())
	}
	if got := f.webhook(t, domain.StripeEvent{ID: "evt_late_failure", Type: domain.IntentFailed, PaymentIntentID: p.StripeID()}); got != domain.OutcomeUnchanged {
		t.Fatalf("failure after success: %s", got)
	}
}

func TestStripeEvent_IgnoredAndUnmatched(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if got := f.webhook(t, domain.StripeEvent{ID: "evt_x", Type: "customer.created"}); got != domain.OutcomeIgnored {
		t.Fatalf("unknown type: %s", got)
	}
	if got := f.webhook(t, domain.StripeEvent{ID: "evt_y", Type: domain.IntentSucceeded, PaymentIntentID: "pi_nobody"}); got != domain.OutcomeUnmatched {
		t.Fatalf("unknown intent: %s", got)
	}
	// An intent that is not the one stored for the order is not ours.
	p := f.pay(t, f.order(t, 2500))
	if got := f.webhook(t, domain.StripeEvent{ID: "evt_z", Type: domain.IntentSucceeded, PaymentIntentID: "pi_other", OrderID: p.OrderID(), Amount: 2500, Currency: "eur"}); got != domain.OutcomeIntentMismatch {
		t.Fatalf("foreign intent with our order id: %s", got)
	}
	if stored, _ := f.payments.Get(context.Background(), p.ID()); stored.Status() != domain.StatusPending || stored.Version() != p.Version() {
		t.Fatalf("payment %s version %d after a foreign intent's event", stored.Status(), stored.Version())
	}
}

func TestStripeEvent_NeverAttachesAnIntentToAPaymentWithout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	f.stripe.failIntent = apierr.Upstream("Stripe", errors.New("answer lost"))
	_, _, _ = f.app.CreatePayment.Handle(context.Background(), app.CreatePayment{UserID: buyer, OrderID: o.ID})
	got := f.webhook(t, domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_lost", OrderID: o.ID, Amount: 2500, Currency: "eur"})
	p, _ := f.payments.ByOrder(context.Background(), o.ID)
	if got != domain.OutcomeNoIntent || p.Status() != domain.StatusPending || p.StripeID() != "" {
		t.Fatalf("outcome %s, payment %s %q", got, p.Status(), p.StripeID())
	}
	free := f.pay(t, f.order(t, 0))
	got = f.webhook(t, domain.StripeEvent{ID: "evt_2", Type: domain.ChargeRefunded, PaymentIntentID: "pi_free", OrderID: free.OrderID(), Amount: 0, Currency: "eur"})
	if p, _ := f.payments.Get(context.Background(), free.ID()); got != domain.OutcomeNoIntent || p.Status() != domain.StatusSucceeded || p.StripeID() != "" {
		t.Fatalf("free order: outcome %s, payment %s %q", got, p.Status(), p.StripeID())
	}
}

// held pays an order of 2500 and has Stripe report only 100 of it.
func (f *fixture) held(t *testing.T) (domain.Order, *domain.Payment) {
	t.Helper()
	o := f.order(t, 2500)
	p := f.pay(t, o)
	e := succeededEvent(p)
	e.Amount = 100
	if got := f.webhook(t, e); got != domain.OutcomeHeld {
		t.Fatalf("short payment: %s", got)
	}
	return o, p
}

func TestResolvePayment_OnlyAdmins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, p := f.held(t)
	resolve := func(who string) error {
		_, err := f.app.ResolvePayment.Handle(context.Background(), app.ResolvePayment{UserID: who, PaymentID: p.ID(), Action: domain.ResolveAccept})
		return err
	}
	wantKind(t, resolve(buyer), apierr.KindForbidden, "resolve_forbidden")
	wantKind(t, resolve(seller), apierr.KindForbidden, "resolve_forbidden")
	wantKind(t, resolve(stranger), apierr.KindNotFound, "payment_not_found")
	_, err := f.app.ListPayments.Handle(context.Background(), app.ListPayments{UserID: buyer, Status: domain.StatusReview, Limit: 10})
	wantKind(t, err, apierr.KindForbidden, "admin_required")
	list, err := f.app.ListPayments.Handle(context.Background(), app.ListPayments{UserID: admin, Status: domain.StatusReview, Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID() != p.ID() {
		t.Fatalf("admin's list %v, %v", list, err)
	}
	_, err = f.app.RefundPayment.Handle(context.Background(), buyer, p.ID())
	wantKind(t, err, apierr.KindConflict, "payment_in_review")
}

func TestResolvePayment_AcceptAndRefund(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		action      domain.Resolution
		cancelFirst bool
		want        domain.Status
		refunds     int
	}{
		"accept":                      {domain.ResolveAccept, false, domain.StatusSucceeded, 0},
		"accept after the hold ended": {domain.ResolveAccept, true, domain.StatusRefunded, 1},
		"refund":                      {domain.ResolveRefund, false, domain.StatusRefunded, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			o, p := f.held(t)
			if c.cancelFirst {
				if err := f.cancel(t, o, 1); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.app.ResolvePayment.Handle(context.Background(), app.ResolvePayment{UserID: admin, PaymentID: p.ID(), Action: c.action})
			if err != nil || got.Status() != c.want || got.Review().Resolution != c.action || got.Review().ResolvedBy != admin {
				t.Fatalf("resolve: %v, %+v", err, got)
			}
			if n := f.stripe.refunds[p.StripeID()]; n != c.refunds {
				t.Fatalf("%d Stripe refunds, want %d", n, c.refunds)
			}
			_, err = f.app.ResolvePayment.Handle(context.Background(), app.ResolvePayment{UserID: admin, PaymentID: p.ID(), Action: domain.ResolveAccept})
			wantKind(t, err, apierr.KindConflict, "payment_not_in_review")
		})
	}
}

func TestStripeEvent_SuccessForACancelledOrderIsRefunded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	p := f.pay(t, o)
	if err := f.cancel(t, o, 1); err != nil {
		t.Fatal(err)
	}
	f.stripe.failRefund = apierr.Upstream("Stripe", errors.New("try later"))
	if _, err := f.app.HandleStripeEvent.Handle(context.Background(), succeededEvent(p)); err == nil {
		t.Fatal("a failed refund was answered as handled: Stripe would not deliver again")
	}
	// Stripe delivers the event again: the event is a duplicate now, and the
	// refund is retried.
	f.stripe.failRefund = nil
	f.webhook(t, succeededEvent(p))
	stored, _ := f.payments.Get(context.Background(), p.ID())
	if stored.Status() != domain.StatusRefunded || f.stripe.refunds[p.StripeID()] != 1 {
		t.Fatalf("status %s, refunds %d", stored.Status(), f.stripe.refunds[p.StripeID()])
	}
	if order, _ := f.orders.Get(context.Background(), o.ID); order.Status != domain.OrderCancelled {
		t.Fatalf("order %s, want it to stay cancelled", order.Status)
	}
}

func TestApplyOrder_CancelledAfterSuccessIsRefundedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	p := f.pay(t, o)
	f.webhook(t, succeededEvent(p))
	f.stripe.failRefund = apierr.Upstream("Stripe", errors.New("try later"))
	if err := f.cancel(t, o, 1); err == nil {
		t.Fatal("a failed refund was acknowledged: the event would not be retried")
	}
	f.stripe.failRefund = nil
	for i := 0; i < 2; i++ { // the retry, then a duplicate delivery
		if err := f.cancel(t, o, 1); err != nil {
			t.Fatal(err)
		}
	}
	stored, _ := f.payments.Get(context.Background(), p.ID())
	if stored.Status() != domain.StatusRefunded || f.stripe.refunds[p.StripeID()] != 1 {
		t.Fatalf("status %s, refunds %d", stored.Status(), f.stripe.refunds[p.StripeID()])
	}
}

func TestApplyOrder_CancelledWhilePendingRefundsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	p := f.pay(t, o)
	if err := f.cancel(t, o, 1); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.payments.Get(context.Background(), p.ID())
	if stored.Status() != domain.StatusPending || len(f.stripe.refunds) != 0 {
		t.Fatalf("status %s, refunds %v", stored.Status(), f.stripe.refunds)
	}
}

func TestRefundPayment_ByBuyerOrAdmin(t *testing.T) {
	t.Parallel()
	for _, who := range []string{buyer, admin} {
		t.Run(who, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			o := f.order(t, 2500)
			p := f.pay(t, o)
			f.webhook(t, succeededEvent(p))
			f.complete(t, o)
			got, err := f.app.RefundPayment.Handle(context.Background(), who, p.ID())
			if err != nil || got.Status() != domain.StatusRefunded || f.stripe.refunds[p.StripeID()] != 1 {
				t.Fatalf("refund: %v, status %v", err, got)
			}
			_, err = f.app.RefundPayment.Handle(context.Background(), who, p.ID())
			wantKind(t, err, apierr.KindConflict, "payment_not_refundable")
		})
	}
}

func TestRefundPayment_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	o := f.order(t, 2500)
	p := f.pay(t, o)
	_, err := f.app.RefundPayment.Handle(ctx, buyer, p.ID())
	wantKind(t, err, apierr.KindConflict, "payment_not_refundable")
	f.webhook(t, succeededEvent(p))
	f.complete(t, o)
	_, err = f.app.RefundPayment.Handle(ctx, seller, p.ID())
	wantKind(t, err, apierr.KindForbidden, "refund_forbidden")
	_, err = f.app.RefundPayment.Handle(ctx, stranger, p.ID())
	wantKind(t, err, apierr.KindNotFound, "payment_not_found")
	_, err = f.app.RefundPayment.Handle(ctx, buyer, primitive.NewObjectID().Hex())
	wantKind(t, err, apierr.KindNotFound, "payment_not_found")
	f.stripe.failRefund = apierr.Upstream("Stripe", errors.New("refused"))
	_, err = f.app.RefundPayment.Handle(ctx, buyer, p.ID())
	wantKind(t, err, apierr.KindUpstream, "upstream_failed")
	if stored, _ := f.payments.Get(ctx, p.ID()); stored.Status() != domain.StatusSucceeded {
		t.Fatalf("a refund Stripe refused was recorded: %s", stored.Status())
	}
}

// TestRefundPayment_RefusedUntilTheOrderCompletes: a succeeded payment
// whose order is still created (its reservation lags) is not refunded on
// request (409 order_not_complete, nothing refunded); a replica that lags
// behind the orders service is brought up to date first, so an order that
// completed meanwhile is refunded; the orders service unreachable is its
// error, not a guess.
func TestRefundPayment_RefusedUntilTheOrderCompletes(t *testing.T) {
	t.Parallel()
	ctx := as(buyer)
	f := newFixture(t)
	o := f.order(t, 2500)
	p := f.pay(t, o)
	f.webhook(t, succeededEvent(p))
	f.source.orders[o.ID] = o
	_, err := f.app.RefundPayment.Handle(ctx, buyer, p.ID())
	wantKind(t, err, apierr.KindConflict, "order_not_complete")
	if stored, _ := f.payments.Get(ctx, p.ID()); stored.Status() != domain.StatusSucceeded || len(f.stripe.refunds) != 0 {
		t.Fatalf("a refused refund moved money: %s, %v", stored.Status(), f.stripe.refunds)
	}

	f.source.fail = apierr.Unavailable("the orders service", errors.New("down"))
	_, err = f.app.RefundPayment.Handle(ctx, buyer, p.ID())
	wantKind(t, err, apierr.KindUnavailable, "dependency_unavailable")
	f.source.fail = nil

	done := o
	done.Status, done.Version = domain.OrderComplete, 1
	f.source.orders[o.ID] = done
	got, err := f.app.RefundPayment.Handle(ctx, buyer, p.ID())
	if err != nil || got.Status() != domain.StatusRefunded || f.stripe.refunds[p.StripeID()] != 1 {
		t.Fatalf("refund once the orders service says complete: %v, %v", err, got)
	}
	if replica, _ := f.orders.Get(ctx, o.ID); replica.Status != domain.OrderComplete {
		t.Fatalf("the replica was not brought up to date: %s", replica.Status)
	}
}

func TestRefundPayment_FreePaymentNeedsNoStripe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 0)
	p := f.pay(t, o)
	f.complete(t, o)
	got, err := f.app.RefundPayment.Handle(context.Background(), buyer, p.ID())
	if err != nil || got.Status() != domain.StatusRefunded || len(f.stripe.refunds) != 0 {
		t.Fatalf("err %v, refunds %v", err, f.stripe.refunds)
	}
}

func TestGetPayment_VisibleToBuyerSellerAdminOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.pay(t, f.order(t, 2500))
	for _, who := range []string{buyer, seller, admin} {
		if got, err := f.app.GetPayment.ByID(ctx, who, p.ID()); err != nil || got.ID() != p.ID() {
			t.Fatalf("%s by id: %v", who, err)
		}
		if got, err := f.app.GetPayment.ByOrder(ctx, who, p.OrderID()); err != nil || got.ID() != p.ID() {
			t.Fatalf("%s by order: %v", who, err)
		}
	}
	_, err := f.app.GetPayment.ByID(ctx, stranger, p.ID())
	wantKind(t, err, apierr.KindNotFound, "payment_not_found")
	_, err = f.app.GetPayment.ByOrder(ctx, stranger, p.OrderID())
	wantKind(t, err, apierr.KindNotFound, "payment_not_found")
	_, err = f.app.GetPayment.ByOrder(ctx, buyer, primitive.NewObjectID().Hex())
	wantKind(t, err, apierr.KindNotFound, "payment_not_found")
}

func TestRepairGrants_WritesTuplesOfPaymentsLeftFlagged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.order(t, 2500)
	f.perms.fail = apierr.Unavailable("Keto", errors.New("down"))
	// Keto refuses the create's own grant, so the payment stays flagged.
	p, _ := domain.NewPayment(f.payments.NextID(), o, time.Now().Add(-time.Minute))
	if err := f.payments.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if n, err := f.app.RepairGrants.Repair(context.Background()); err == nil || n != 0 {
		t.Fatalf("repair with Keto down: %d, %v", n, err)
	}
	f.perms.fail = nil
	if n, err := f.app.RepairGrants.Repair(context.Background()); err != nil || n != 1 {
		t.Fatalf("repaired %d, %v", n, err)
	}
	if ok, _ := f.perms.CanViewPayment(context.Background(), buyer, p.ID()); !ok {
		t.Fatal("tuples not written")
	}
	if n, _ := f.app.RepairGrants.Repair(context.Background()); n != 0 {
		t.Fatalf("repaired again: %d", n)
	}
}
