package ports_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/orders/ports"
	"github.com/ticketing/ticketing/pkg/events"
)

// router records the handlers as the consumer would bind them.
type router map[events.Name]events.Handler

func (r router) Handle(n events.Name, h events.Handler) { r[n] = h }

type eventFixture struct {
	routes  router
	orders  *adapters.MemoryOrderRepository
	tickets *adapters.MemoryTicketReplica
}

func newEventFixture(t *testing.T) eventFixture {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := eventFixture{routes: router{}, orders: adapters.NewMemoryOrderRepository(), tickets: adapters.NewMemoryTicketReplica()}
	application := app.Application{
		ApplyTicket:        app.NewApplyTicketHandler(f.tickets),
		ExpireOrder:        app.NewExpireOrderHandler(f.orders, logger),
		CompleteOrder:      app.NewCompleteOrderHandler(f.orders, logger),
		RefundOrder:        app.NewRefundOrderHandler(f.orders, logger),
		ConfirmReservation: app.NewConfirmReservationHandler(f.orders, logger),
		RefuseOrder:        app.NewRefuseOrderHandler(f.orders, logger),
	}
	ports.NewEventHandlers(application, logger).Register(f.routes)
	return f
}

func (f eventFixture) deliver(t *testing.T, name events.Name, data any) error {
	t.Helper()
	h, ok := f.routes[name]
	if !ok {
		t.Fatalf("no handler bound for %s", name)
	}
	e, err := events.New(name, data, events.Meta{CorrelationID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	return h(context.Background(), e)
}

func TestEventHandlers_BindEveryEventOrdersConsumes(t *testing.T) {
	t.Parallel()
	f := newEventFixture(t)
	for _, n := range []events.Name{
		events.TicketCreated, events.TicketUpdated, events.TicketReservationRefused, events.ExpirationCompleted,
		events.PaymentSucceeded, events.PaymentFailed, events.PaymentRefunded,
	} {
		if _, ok := f.routes[n]; !ok {
			t.Errorf("%s is not bound", n)
		}
	}
	if len(f.routes) != 7 {
		t.Errorf("%d events bound, want 7", len(f.routes))
	}
}

func TestEventHandlers_DriveTheReplicaAndTheOrders(t *testing.T) {
	t.Parallel()
	f := newEventFixture(t)
	ctx := context.Background()
	tk := events.Ticket{ID: ticketID, Title: "Concert", Price: 2500, Currency: "eur", UserID: seller, Status: "available", Version: 2}
	if err := f.deliver(t, events.TicketUpdated, tk); err != nil {
		t.Fatal(err)
	}
	stored, err := f.tickets.Get(ctx, ticketID)
	if err != nil || stored.SellerID != seller || stored.Version != 2 {
		t.Fatalf("replica holds %+v, %v", stored, err)
	}
	o, err := domain.NewOrder(f.orders.NextID(), buyer, stored, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.orders.Add(ctx, o, testHolds); err != nil {
		t.Fatal(err)
	}
	pay := events.Payment{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", OrderID: o.ID(), UserID: buyer, Amount: 2500, Currency: "eur", Status: "succeeded", Version: 1}
	if err := f.deliver(t, events.PaymentFailed, pay); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusCreated {
		t.Fatalf("a failed payment changed the order to %s", got.Status())
	}
	if err := f.deliver(t, events.PaymentSucceeded, pay); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusCreated {
		t.Fatalf("payment.succeeded before the ticket was reserved made the order %s, want it kept until then", got.Status())
	}
	// The tickets service reserves the ticket for the order: its event
	// names the order, which is then confirmed and completes.
	tk.Status, tk.OrderID, tk.Version = "reserved", o.ID(), 3
	if err := f.deliver(t, events.TicketUpdated, tk); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusComplete || got.PaymentID() != pay.ID {
		t.Fatalf("after payment.succeeded: %s, payment %q", got.Status(), got.PaymentID())
	}
	if err := f.deliver(t, events.ExpirationCompleted, events.Expiration{OrderID: o.ID()}); err != nil {
		t.Fatal(err)
	}
	if err := f.deliver(t, events.PaymentRefunded, pay); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.orders.Get(ctx, o.ID()); got.Status() != domain.StatusRefunded || got.Version() != 2 {
		t.Fatalf("after expiry and refund: %s v%d, want refunded v2", got.Status(), got.Version())
	}
}

func TestEventHandlers_MalformedDataIsDeadLetteredAtOnce(t *testing.T) {
	t.Parallel()
	f := newEventFixture(t)
	for name, data := range map[events.Name]any{
		events.TicketCreated:       map[string]any{"id": "not-an-id", "version": 1},
		events.TicketUpdated:       map[string]any{"id": ticketID, "version": "new"},
		events.ExpirationCompleted: map[string]any{"orderId": 5},
		events.PaymentSucceeded:    map[string]any{"orderId": "short"},
		events.PaymentRefunded:     json.RawMessage(`[]`),
		events.PaymentFailed:       map[string]any{},
	} {
		if err := f.deliver(t, name, data); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s with malformed data: %v, want ErrMalformed", name, err)
		}
	}
}

func TestEventHandlers_ARefusedReservationCancelsTheOrder(t *testing.T) {
	t.Parallel()
	f := newEventFixture(t)
	ctx := context.Background()
	tk := events.Ticket{ID: ticketID, Title: "Concert", Price: 2500, Currency: "eur", UserID: seller, Status: "available", Version: 0}
	if err := f.deliver(t, events.TicketCreated, tk); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.tickets.Get(ctx, ticketID)
	o, err := domain.NewOrder(f.orders.NextID(), buyer, stored, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.orders.Add(ctx, o, testHolds); err != nil {
		t.Fatal(err)
	}
	tk.Price, tk.Version = 3000, 1
	refusal := events.ReservationRefusal{OrderID: o.ID(), OrderVersion: 0, Ticket: tk, Reason: events.RefusalPriceChanged}
	for range 2 { // a redelivery changes nothing
		if err := f.deliver(t, events.TicketReservationRefused, refusal); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.orders.Get(ctx, o.ID())
	if got.Status() != domain.StatusCancelled || got.CancelReason() != domain.CancelReasonPriceChanged || got.Version() != 1 {
		t.Fatalf("refused order %s (%q) v%d, want cancelled (price_changed) v1", got.Status(), got.CancelReason(), got.Version())
	}
}
