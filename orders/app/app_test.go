package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/app/apptest"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

const (
	ticketID = "656565656565656565656565"
	seller   = "seller-1"
	buyer    = "buyer-1"
)

type fixture struct {
	orders  *adapters.MemoryOrderRepository
	tickets *adapters.MemoryTicketReplica
	perms   *apptest.Permissions
	limiter *apptest.Limiter
	app     app.Application
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := fixture{
		orders:  adapters.NewMemoryOrderRepository(),
		tickets: adapters.NewMemoryTicketReplica(),
		perms:   apptest.NewPermissions(),
		limiter: &apptest.Limiter{Allowance: 100},
	}
	f.app = app.Application{
		CreateOrder:        app.NewCreateOrderHandler(f.orders, f.tickets, f.perms, app.OrderLimits{Window: 15 * time.Minute, MaxHolds: testHolds}, f.limiter, &apptest.Limiter{Allowance: 100}, logger),
		CancelOrder:        app.NewCancelOrderHandler(f.orders, f.perms),
		GetOrder:           app.NewGetOrderHandler(f.orders, f.perms),
		ExpireOrder:        app.NewExpireOrderHandler(f.orders, logger),
		CompleteOrder:      app.NewCompleteOrderHandler(f.orders, logger),
		ConfirmReservation: app.NewConfirmReservationHandler(f.orders, logger),
		RefuseOrder:        app.NewRefuseOrderHandler(f.orders, logger),
		RefundOrder:        app.NewRefundOrderHandler(f.orders, logger),
		RepairGrants:       app.NewRepairGrantsHandler(f.orders, f.perms, logger),
	}
	f.perms.AddTicket(ticketID, seller)
	if _, err := f.tickets.Apply(context.Background(), domain.Ticket{
		ID: ticketID, Title: "Concert", Price: 2500, Currency: "eur", SellerID: seller, Status: "available", Version: 0,
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) create(t *testing.T, buyerID string) *domain.Order {
	t.Helper()
	o, err := f.app.CreateOrder.Handle(context.Background(), app.CreateOrder{BuyerID: buyerID, TicketID: ticketID})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCreateOrder_GrantsTheBuyerBeforeAnswering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(t, buyer)
	if o.Status() != domain.StatusCreated || o.Ticket().SellerID != seller || o.Ticket().Price != 2500 {
		t.Fatalf("created %+v", o)
	}
	for who, want := range map[string]bool{buyer: true, seller: true, "stranger": false} {
		if ok, _ := f.perms.CanViewOrder(context.Background(), who, o.ID()); ok != want {
			t.Errorf("%s may view: %v, want %v", who, ok, want)
		}
	}
	if pending, _ := f.orders.GrantsPending(context.Background(), time.Now().Add(time.Hour), 10); len(pending) != 0 {
		t.Errorf("a granted order is still flagged")
	}
}

func TestCreateOrder_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		buyer    string
		ticketID string
		want     error
	}{
		{"the seller orders their own ticket", seller, ticketID, domain.ErrOwnTicket},
		{"a ticket the replica does not know", buyer, "777777777777777777777777", domain.ErrTicketNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.app.CreateOrder.Handle(context.Background(), app.CreateOrder{BuyerID: tt.buyer, TicketID: tt.ticketID})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCreateOrder_RejectsAReservedTicket(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t, buyer)
	_, err := f.app.CreateOrder.Handle(context.Background(), app.CreateOrder{BuyerID: "buyer-2", TicketID: ticketID})
	if !errors.Is(err, domain.ErrTicketUnavailable) {
		t.Fatalf("second order: %v, want ErrTicketUnavailable", err)
	}
}

func TestCreateOrder_WithoutKetoWithdrawsTheOrderSoARetryWorks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.perms.GrantsFail = true
	_, err := f.app.CreateOrder.Handle(context.Background(), app.CreateOrder{BuyerID: buyer, TicketID: ticketID})
	if apierr.KindOf(err) != apierr.KindUnavailable {
		t.Fatalf("error %v, want unavailable", err)
	}
	withdrawn, _ := f.orders.List(context.Background(), domain.ListQuery{Role: domain.RoleBuyer, UserID: buyer, Limit: 10})
	if len(withdrawn) != 1 || withdrawn[0].Status() != domain.StatusCancelled {
		t.Fatalf("orders after the failure: %+v; want one cancelled", withdrawn)
	}
	f.perms.GrantsFail = false
	if o := f.create(t, buyer); o.Status() != domain.StatusCreated {
		t.Fatalf("retry: %+v", o)
	}
}

func TestRepairGrants_GrantsOrdersLeftFlaggedAndClearsThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tk, _ := f.tickets.Get(context.Background(), ticketID)
	// An order stored by a process that died before writing its tuples.
	o, err := domain.NewOrder(f.orders.NextID(), buyer, tk, time.Now().Add(-time.Minute), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.orders.Add(context.Background(), o, testHolds); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.perms.CanViewOrder(context.Background(), buyer, o.ID()); ok {
		t.Fatal("the orphan is visible before the repair")
	}
	n, err := f.app.RepairGrants.Repair(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Repair = %d, %v; want 1", n, err)
	}
	if ok, _ := f.perms.CanViewOrder(context.Background(), buyer, o.ID()); !ok {
		t.Fatal("the buyer cannot view the repaired order")
	}
	if n, _ := f.app.RepairGrants.Repair(context.Background()); n != 0 {
		t.Fatalf("second pass repaired %d, want 0", n)
	}
}

func TestRepairGrants_LeavesYoungOrdersToTheirRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tk, _ := f.tickets.Get(context.Background(), ticketID)
	o, _ := domain.NewOrder(f.orders.NextID(), buyer, tk, time.Now(), 15*time.Minute)
	if err := f.orders.Add(context.Background(), o, testHolds); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.app.RepairGrants.Repair(context.Background()); n != 0 {
		t.Fatalf("repaired %d orders still inside the grace period", n)
	}
}

func TestCancelOrder_WhoMayCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		caller string
		want   error
	}{
		{buyer, nil},
		{seller, domain.ErrNotOrderOwner},
		{"admin", domain.ErrNotOrderOwner},
		{"stranger", domain.ErrOrderNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.perms.AddAdmin("admin")
			o := f.create(t, buyer)
			got, err := f.app.CancelOrder.Handle(context.Background(), app.CancelOrder{UserID: tt.caller, OrderID: o.ID()})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err == nil && (got.Status() != domain.StatusCancelled || got.Version() != 1) {
				t.Fatalf("cancelled order %+v", got)
			}
		})
	}
}

func TestGetOrder_UnknownAndInvisibleOrdersAreBothNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(t, buyer)
	for _, q := range []app.GetOrder{
		{UserID: "stranger", OrderID: o.ID()},
		{UserID: buyer, OrderID: "777777777777777777777777"},
	} {
		if _, err := f.app.GetOrder.Handle(context.Background(), q); !errors.Is(err, domain.ErrOrderNotFound) {
			t.Errorf("%+v: %v, want ErrOrderNotFound", q, err)
		}
	}
}

func TestOrderEvents_AreIdempotentAndIgnoreUnknownOrders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const payment = "aaaaaaaaaaaaaaaaaaaaaaaa"
	o := f.create(t, buyer)
	if err := f.app.ConfirmReservation.Handle(ctx, o.ID(), ticketID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.app.CompleteOrder.Handle(ctx, o.ID(), payment); err != nil {
			t.Fatal(err)
		}
		if err := f.app.ExpireOrder.Handle(ctx, o.ID()); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.orders.Get(ctx, o.ID())
	if got.Status() != domain.StatusComplete || got.Version() != 1 {
		t.Fatalf("after two payments and two expiries: %s v%d; want complete v1", got.Status(), got.Version())
	}
	for range 2 {
		if err := f.app.RefundOrder.Handle(ctx, o.ID(), payment); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ = f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusRefunded || got.Version() != 2 {
		t.Fatalf("after two refunds: %s v%d; want refunded v2", got.Status(), got.Version())
	}
	unknown := "777777777777777777777777"
	for _, err := range []error{
		f.app.ExpireOrder.Handle(ctx, unknown),
		f.app.CompleteOrder.Handle(ctx, unknown, payment),
		f.app.RefundOrder.Handle(ctx, unknown, payment),
	} {
		if err != nil {
			t.Errorf("event for an unknown order: %v, want it ignored", err)
		}
	}
}

// testHolds is the hold limit of the tests' buyers.
const testHolds = 5

// listTicket adds a ticket of seller to the replica and Keto.
func (f fixture) listTicket(t *testing.T) string {
	t.Helper()
	id := f.orders.NextID()
	f.perms.AddTicket(id, seller)
	if _, err := f.tickets.Apply(context.Background(), domain.Ticket{ID: id, Title: "Concert", Price: 100, Currency: "eur", SellerID: seller, Status: "available"}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCreateOrder_BuyerHoldsAtMostMaxHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var held []*domain.Order
	for range testHolds {
		o, err := f.app.CreateOrder.Handle(ctx, app.CreateOrder{BuyerID: buyer, TicketID: f.listTicket(t)})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, o)
	}
	_, err := f.app.CreateOrder.Handle(ctx, app.CreateOrder{BuyerID: buyer, TicketID: f.listTicket(t)})
	if !errors.Is(err, domain.ErrTooManyHolds) || apierr.Status(err) != http.StatusConflict {
		t.Fatalf("order beyond the limit: %v, want 409 too_many_holds", err)
	}
	if _, err := f.app.CreateOrder.Handle(ctx, app.CreateOrder{BuyerID: "another-buyer", TicketID: f.listTicket(t)}); err != nil {
		t.Fatalf("another buyer's order: %v", err)
	}
	// Each way a hold ends frees its slot.
	ends := []func(o *domain.Order) error{
		func(o *domain.Order) error {
			_, err := f.app.CancelOrder.Handle(ctx, app.CancelOrder{UserID: buyer, OrderID: o.ID()})
			return err
		},
		func(o *domain.Order) error { return f.app.ExpireOrder.Handle(ctx, o.ID()) },
		func(o *domain.Order) error {
			return f.app.RefuseOrder.Handle(ctx, o.ID(), domain.CancelReasonPriceChanged)
		},
		func(o *domain.Order) error {
			if err := f.app.ConfirmReservation.Handle(ctx, o.ID(), o.Ticket().ID); err != nil {
				return err
			}
			return f.app.CompleteOrder.Handle(ctx, o.ID(), "aaaaaaaaaaaaaaaaaaaaaaaa")
		},
	}
	for i, end := range ends {
		if err := end(held[i]); err != nil {
			t.Fatalf("ending hold %d: %v", i, err)
		}
		if _, err := f.app.CreateOrder.Handle(ctx, app.CreateOrder{BuyerID: buyer, TicketID: f.listTicket(t)}); err != nil {
			t.Fatalf("order after ending hold %d: %v", i, err)
		}
	}
}

func TestCreateOrder_RateLimitedPerBuyer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	create := app.NewCreateOrderHandler(f.orders, f.tickets, f.perms, app.OrderLimits{Window: time.Minute, MaxHolds: testHolds},
		&apptest.Limiter{Allowance: 2, RetryAfter: 3 * time.Second}, &apptest.Limiter{Allowance: 100}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range 2 {
		if _, err := create.Handle(ctx, app.CreateOrder{BuyerID: buyer, TicketID: f.listTicket(t)}); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	_, err := create.Handle(ctx, app.CreateOrder{BuyerID: buyer, TicketID: f.listTicket(t)})
	if e, ok := apierr.As(err); !ok || e.Code != "rate_limited" || apierr.Status(err) != http.StatusTooManyRequests || e.RetryAfter != 3*time.Second {
		t.Fatalf("third order: %v, want 429 rate_limited with the limiter's Retry-After (3s)", err)
	}
	if _, err := create.Handle(ctx, app.CreateOrder{BuyerID: "another-buyer", TicketID: f.listTicket(t)}); err != nil {
		t.Fatalf("another buyer is limited on their own: %v", err)
	}
}

// TestCreateOrder_ReholdingATicketIsPacedPerBuyerAndTicket: one buyer's
// holds of one ticket are counted (ORDER_TICKET_RATE): cancelling and
// ordering again at once is admitted twice, then 429 rate_limited with the
// limiter's Retry-After; an attempt that holds nothing (the ticket taken:
// 409) is not counted; another buyer, or another ticket, is not slowed.
func TestCreateOrder_ReholdingATicketIsPacedPerBuyerAndTicket(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	create := app.NewCreateOrderHandler(f.orders, f.tickets, f.perms, app.OrderLimits{Window: time.Minute, MaxHolds: testHolds},
		&apptest.Limiter{Allowance: 100}, &apptest.Limiter{Allowance: 2, RetryAfter: 30 * time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	order := func(buyerID, ticket string) (*domain.Order, error) {
		return create.Handle(ctx, app.CreateOrder{BuyerID: buyerID, TicketID: ticket})
	}
	taken := f.listTicket(t)
	held, err := order("another-buyer", taken)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := order(buyer, taken); apierr.Status(err) != http.StatusConflict {
			t.Fatalf("attempt %d on a taken ticket: %v, want 409 ticket_unavailable", i+1, err)
		}
	}
	if _, err := f.orders.Update(ctx, held.ID(), func(o *domain.Order) (bool, error) { return o.Cancel() }); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		o, err := order(buyer, taken)
		if err != nil {
			t.Fatalf("hold %d: %v (the 409s must not have counted)", i+1, err)
		}
		if _, err := f.orders.Update(ctx, o.ID(), func(o *domain.Order) (bool, error) { return o.Cancel() }); err != nil {
			t.Fatal(err)
		}
	}
	_, err = order(buyer, taken)
	if e, ok := apierr.As(err); !ok || e.Code != "rate_limited" || apierr.Status(err) != http.StatusTooManyRequests || e.RetryAfter != 30*time.Minute {
		t.Fatalf("third hold of one ticket: %v, want 429 rate_limited with Retry-After 30m", err)
	}
	if _, err := order("another-buyer", taken); err != nil {
		t.Fatalf("another buyer ordering the ticket: %v", err)
	}
	if _, err := order(buyer, f.listTicket(t)); err != nil {
		t.Fatalf("the buyer ordering another ticket: %v", err)
	}
}

func TestCompleteOrder_APaymentBeforeTheReservationCompletesOnIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, buyer)
	if err := f.app.CompleteOrder.Handle(ctx, o.ID(), "aaaaaaaaaaaaaaaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusCreated || got.Version() != 0 {
		t.Fatalf("paid before the reservation: %s v%d, want still created v0", got.Status(), got.Version())
	}
	if err := f.app.ConfirmReservation.Handle(ctx, o.ID(), "ffffffffffffffffffffffff"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Reserved() || got.Status() != domain.StatusCreated {
		t.Fatal("a reservation of another ticket confirmed the order")
	}
	if err := f.app.ConfirmReservation.Handle(ctx, o.ID(), ticketID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.orders.Get(ctx, o.ID())
	if got.Status() != domain.StatusComplete || got.Version() != 1 || got.PaymentID() != "aaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Fatalf("after the reservation: %s v%d paid by %q, want complete v1", got.Status(), got.Version(), got.PaymentID())
	}
}

func TestRefuseOrder_CancelsAnUnreservedOrderWithItsReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, buyer)
	if err := f.app.RefuseOrder.Handle(ctx, o.ID(), domain.CancelReasonPriceChanged); err != nil {
		t.Fatal(err)
	}
	got, _ := f.orders.Get(ctx, o.ID())
	if got.Status() != domain.StatusCancelled || got.CancelReason() != domain.CancelReasonPriceChanged {
		t.Fatalf("refused order %s (%q), want cancelled (price_changed)", got.Status(), got.CancelReason())
	}
	if err := f.app.CompleteOrder.Handle(ctx, o.ID(), "aaaaaaaaaaaaaaaaaaaaaaaa"); err != nil {
		t.Fatalf("a late payment of a refused order: %v, want it ignored (payments refunds it)", err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("late payment made the refused order %s", got.Status())
	}
}

func TestReleaseOverdue_ExpiresHoldsTheExpirationServiceMissed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, buyer)
	sweeper := app.NewReleaseOverdueHandler(f.orders, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := sweeper.Release(ctx); err != nil || n != 0 {
		t.Fatalf("a hold within its window: released %d (%v), want 0", n, err)
	}
	// As if the window (15 minutes) had ended more than the grace ago.
	sweeper.Grace = -time.Hour
	if n, err := sweeper.Release(ctx); err != nil || n != 1 {
		t.Fatalf("an overdue hold: released %d (%v), want 1", n, err)
	}
	got, _ := f.orders.Get(ctx, o.ID())
	if got.Status() != domain.StatusCancelled || got.Version() != 1 || got.HoldKey() != "" {
		t.Fatalf("overdue order %s v%d, hold %q; want cancelled v1 without a hold", got.Status(), got.Version(), got.HoldKey())
	}
	if n, err := sweeper.Release(ctx); err != nil || n != 0 {
		t.Fatalf("second pass: released %d (%v), want 0", n, err)
	}
}
