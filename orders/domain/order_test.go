package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

var (
	now    = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	ticket = domain.Ticket{
		ID: "656565656565656565656565", Title: "Concert", Price: 2500, Currency: "eur",
		SellerID: "seller-1", Status: "available", Version: 3,
	}
)

// orderIn returns an order of ticket that reached status through the
// transitions, so its version counts them.
func orderIn(t *testing.T, status domain.Status) *domain.Order {
	t.Helper()
	o, err := domain.NewOrder("0123456789abcdef01234567", "buyer-1", ticket, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	switch status {
	case domain.StatusCancelled:
		o.Expire()
	case domain.StatusComplete:
		_, _ = reserveAndComplete(o, "aaaaaaaaaaaaaaaaaaaaaaaa")
	case domain.StatusRefunded:
		_, _ = reserveAndComplete(o, "aaaaaaaaaaaaaaaaaaaaaaaa")
		o.Refund("aaaaaaaaaaaaaaaaaaaaaaaa")
	}
	if o.Status() != status {
		t.Fatalf("could not bring an order to %s", status)
	}
	return o
}

func TestNewOrder_HoldsTheTicketForTheWindow(t *testing.T) {
	t.Parallel()
	o := orderIn(t, domain.StatusCreated)
	want := domain.TicketSnapshot{ID: ticket.ID, Title: "Concert", Price: 2500, Currency: "eur", SellerID: "seller-1", Version: 3}
	if o.Ticket() != want {
		t.Errorf("snapshot %+v, want %+v", o.Ticket(), want)
	}
	if o.Status() != domain.StatusCreated || o.Version() != 0 || o.BuyerID() != "buyer-1" {
		t.Errorf("new order: status %s, version %d, buyer %s", o.Status(), o.Version(), o.BuyerID())
	}
	if want := now.Truncate(time.Millisecond).Add(15 * time.Minute); !o.ExpiresAt().Equal(want) || o.ExpiresAt().Location() != time.UTC {
		t.Errorf("expiresAt %v, want %v UTC", o.ExpiresAt(), want)
	}
	if o.ActiveTicketID() != ticket.ID {
		t.Errorf("a created order must hold its ticket: activeTicketId %q", o.ActiveTicketID())
	}
}

func TestNewOrder_RejectsIncompleteInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		id     string
		buyer  string
		ticket domain.Ticket
		window time.Duration
	}{
		{"malformed id", "xyz", "b", ticket, time.Minute},
		{"no buyer", "0123456789abcdef01234567", "", ticket, time.Minute},
		{"unknown ticket", "0123456789abcdef01234567", "b", domain.Ticket{}, time.Minute},
		{"no window", "0123456789abcdef01234567", "b", ticket, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := domain.NewOrder(tt.id, tt.buyer, tt.ticket, now, tt.window); err == nil {
				t.Fatal("NewOrder accepted it")
			}
		})
	}
}

func TestOrder_Transitions(t *testing.T) {
	t.Parallel()
	const payment, otherPayment = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"
	type transition func(o *domain.Order) (bool, error)
	cancel := func(o *domain.Order) (bool, error) { return o.Cancel() }
	expire := func(o *domain.Order) (bool, error) { return o.Expire(), nil }
	complete := func(p string) transition {
		return func(o *domain.Order) (bool, error) { return reserveAndComplete(o, p) }
	}
	refund := func(p string) transition { return func(o *domain.Order) (bool, error) { return o.Refund(p), nil } }
	refuse := func(o *domain.Order) (bool, error) { return o.Refuse(domain.CancelReasonPriceChanged), nil }
	reserveThenRefuse := func(o *domain.Order) (bool, error) {
		o.ConfirmReservation()
		return o.Refuse(domain.CancelReasonPriceChanged), nil
	}

	tests := []struct {
		name        string
		from        domain.Status
		do          transition
		wantChanged bool
		wantErr     error
		want        domain.Status
	}{
		{"buyer cancels a created order", domain.StatusCreated, cancel, true, nil, domain.StatusCancelled},
		{"cancelling twice is harmless", domain.StatusCancelled, cancel, false, nil, domain.StatusCancelled},
		{"a complete order cannot be cancelled", domain.StatusComplete, cancel, false, domain.ErrOrderNotCancellable, domain.StatusComplete},
		{"a refunded order cannot be cancelled", domain.StatusRefunded, cancel, false, domain.ErrOrderNotCancellable, domain.StatusRefunded},

		{"expiry cancels a created order", domain.StatusCreated, expire, true, nil, domain.StatusCancelled},
		{"expiry of a cancelled order changes nothing", domain.StatusCancelled, expire, false, nil, domain.StatusCancelled},
		{"expiry of a paid order changes nothing", domain.StatusComplete, expire, false, nil, domain.StatusComplete},
		{"expiry of a refunded order changes nothing", domain.StatusRefunded, expire, false, nil, domain.StatusRefunded},

		{"payment completes a created order", domain.StatusCreated, complete(payment), true, nil, domain.StatusComplete},
		{"payment without id changes nothing", domain.StatusCreated, complete(""), false, nil, domain.StatusCreated},
		{"late payment of a cancelled order changes nothing", domain.StatusCancelled, complete(payment), false, nil, domain.StatusCancelled},
		{"second payment of a complete order changes nothing", domain.StatusComplete, complete(otherPayment), false, nil, domain.StatusComplete},
		{"payment of a refunded order changes nothing", domain.StatusRefunded, complete(payment), false, nil, domain.StatusRefunded},

		{"refusal cancels an unreserved created order", domain.StatusCreated, refuse, true, nil, domain.StatusCancelled},
		{"refusal of a reserved order changes nothing", domain.StatusCreated, reserveThenRefuse, false, nil, domain.StatusCreated},
		{"refusal of a cancelled order changes nothing", domain.StatusCancelled, refuse, false, nil, domain.StatusCancelled},
		{"refusal of a complete order changes nothing", domain.StatusComplete, refuse, false, nil, domain.StatusComplete},

		{"refund of the paying payment refunds a complete order", domain.StatusComplete, refund(payment), true, nil, domain.StatusRefunded},
		{"refund of another payment changes nothing", domain.StatusComplete, refund(otherPayment), false, nil, domain.StatusComplete},
		{"refund of a cancelled order changes nothing", domain.StatusCancelled, refund(payment), false, nil, domain.StatusCancelled},
		{"refunding twice is harmless", domain.StatusRefunded, refund(payment), false, nil, domain.StatusRefunded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := orderIn(t, tt.from)
			before := o.Version()
			changed, err := tt.do(o)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if changed != tt.wantChanged || o.Status() != tt.want {
				t.Fatalf("changed %v, status %s; want %v, %s", changed, o.Status(), tt.wantChanged, tt.want)
			}
			wantVersion := before
			if changed {
				wantVersion++
			}
			if o.Version() != wantVersion {
				t.Errorf("version %d, want %d (+1 per change only)", o.Version(), wantVersion)
			}
		})
	}
}

func TestOrder_ActiveTicketIDOnlyWhileCreatedOrComplete(t *testing.T) {
	t.Parallel()
	for status, holds := range map[domain.Status]bool{
		domain.StatusCreated:   true,
		domain.StatusComplete:  true, // a sold ticket cannot be ordered again
		domain.StatusCancelled: false,
		domain.StatusRefunded:  false,
	} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			o := orderIn(t, status)
			if got := o.ActiveTicketID() != ""; got != holds {
				t.Fatalf("holds the ticket: %v, want %v", got, holds)
			}
			if holds && o.ActiveTicketID() != ticket.ID {
				t.Fatalf("activeTicketId %q, want the ticket id", o.ActiveTicketID())
			}
		})
	}
}

func TestOrder_CompleteKeepsThePaymentID(t *testing.T) {
	t.Parallel()
	o := orderIn(t, domain.StatusComplete)
	if o.PaymentID() != "aaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Fatalf("paymentId %q", o.PaymentID())
	}
}

func TestParseID_NamesTheFieldOfAMalformedID(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef012345678", "0123456789abcdef0123456 ", "0123456789ABCDEF01234567"} {
		_, err := domain.ParseID("ticketId", raw)
		e, ok := apierr.As(err)
		if !ok || e.Kind != apierr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "ticketId" {
			t.Errorf("ParseID(%q) = %v, want a 400 naming ticketId", raw, err)
		}
	}
	if id, err := domain.ParseID("id", "0123456789abcdef01234567"); err != nil || id != "0123456789abcdef01234567" {
		t.Errorf("lower-case hex: %q, %v", id, err)
	}
}

// reserveAndComplete completes o as the events do: the ticket's
// reservation confirmed first, then the payment.
func reserveAndComplete(o *domain.Order, paymentID string) (bool, error) {
	o.ConfirmReservation()
	return o.Complete(paymentID), nil
}

func TestOrder_ConfirmReservationIsBookkeeping(t *testing.T) {
	t.Parallel()
	o := orderIn(t, domain.StatusCreated)
	if !o.ConfirmReservation() || !o.Reserved() || o.Version() != 0 {
		t.Fatalf("first confirmation: reserved %v at version %d, want reserved at version 0", o.Reserved(), o.Version())
	}
	if o.ConfirmReservation() {
		t.Fatal("confirming twice reported a change")
	}
	if orderIn(t, domain.StatusCancelled).ConfirmReservation() {
		t.Fatal("a cancelled order was confirmed")
	}
}

func TestOrder_RefusalSaysWhy(t *testing.T) {
	t.Parallel()
	o := orderIn(t, domain.StatusCreated)
	o.Refuse(domain.CancelReasonPriceChanged)
	if o.Status() != domain.StatusCancelled || o.CancelReason() != domain.CancelReasonPriceChanged || o.Version() != 1 {
		t.Fatalf("refused order %s (%q) v%d, want cancelled (price_changed) v1", o.Status(), o.CancelReason(), o.Version())
	}
	if c := orderIn(t, domain.StatusCreated); !must(c.Cancel()) || c.CancelReason() != "" {
		t.Fatalf("a buyer's cancellation has reason %q, want none", c.CancelReason())
	}
}

func TestOrder_HoldKeyOnlyWhileCreated(t *testing.T) {
	t.Parallel()
	for _, status := range []domain.Status{domain.StatusCreated, domain.StatusCancelled, domain.StatusComplete, domain.StatusRefunded} {
		o := orderIn(t, status)
		o.UseHoldSlot(3)
		want := ""
		if status == domain.StatusCreated {
			want = "buyer-1:3"
		}
		if got := o.HoldKey(); got != want {
			t.Errorf("%s order: HoldKey() = %q, want %q", status, got, want)
		}
	}
}

func must(changed bool, err error) bool { return changed && err == nil }

func TestOrder_APaymentBeforeTheReservationCompletesItOnConfirmation(t *testing.T) {
	t.Parallel()
	const payment, second = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"
	o := orderIn(t, domain.StatusCreated)
	if !o.Complete(payment) || o.Status() != domain.StatusCreated || o.Version() != 0 || o.PaymentID() != "" {
		t.Fatalf("payment before the reservation: %s v%d paid by %q; want kept, still created at v0", o.Status(), o.Version(), o.PaymentID())
	}
	if o.Complete(payment) || o.Complete(second) {
		t.Fatal("the same or a second payment before the reservation reported a change")
	}
	if !o.ConfirmReservation() || o.Status() != domain.StatusComplete || o.Version() != 1 || o.PaymentID() != payment {
		t.Fatalf("after the reservation: %s v%d paid by %q; want complete v1 paid by the first payment", o.Status(), o.Version(), o.PaymentID())
	}

	refused := orderIn(t, domain.StatusCreated)
	refused.Complete(payment)
	if !refused.Refuse(domain.CancelReasonPriceChanged) || refused.Status() != domain.StatusCancelled || refused.PaymentID() != "" {
		t.Fatalf("a refused order paid early: %s paid by %q; want cancelled, unpaid (payments refunds)", refused.Status(), refused.PaymentID())
	}
}

// TestOrder_ARefundedPaymentNeverCompletesIt plays a payment's events and
// the reservation's confirmation in every order they can reach orders in
// (the consumer runs handlers concurrently, and a retried event comes
// late): a payment refunded while the order is created is forgotten and
// never completes it, whichever comes first; the version stays (no event:
// nothing changed for other services), and the order keeps its hold.
func TestOrder_ARefundedPaymentNeverCompletesIt(t *testing.T) {
	t.Parallel()
	const payment, other = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"
	succeeded := func(p string) func(*domain.Order) bool { return func(o *domain.Order) bool { return o.Complete(p) } }
	refunded := func(p string) func(*domain.Order) bool { return func(o *domain.Order) bool { return o.Refund(p) } }
	confirm := func(o *domain.Order) bool { return o.ConfirmReservation() }
	type step = func(*domain.Order) bool
	tests := []struct {
		name        string
		steps       []step
		wantChanged []bool
		want        domain.Status
		wantPayment string
		wantVersion int64
	}{
		{"success, refund, reservation", []step{succeeded(payment), refunded(payment), confirm},
			[]bool{true, true, true}, domain.StatusCreated, "", 0},
		{"refund, success, reservation", []step{refunded(payment), succeeded(payment), confirm},
			[]bool{true, false, true}, domain.StatusCreated, "", 0},
		{"reservation, refund, success", []step{confirm, refunded(payment), succeeded(payment)},
			[]bool{true, true, false}, domain.StatusCreated, "", 0},
		{"refund twice", []step{succeeded(payment), refunded(payment), refunded(payment), confirm},
			[]bool{true, true, false, true}, domain.StatusCreated, "", 0},
		{"success, reservation, refund: the paid order is refunded", []step{succeeded(payment), confirm, refunded(payment)},
			[]bool{true, true, true}, domain.StatusRefunded, payment, 2},
		{"another payment's refund leaves the kept one", []step{succeeded(payment), refunded(other), confirm},
			[]bool{true, true, true}, domain.StatusComplete, payment, 1},
		{"a new payment after the refunded one completes it", []step{succeeded(payment), refunded(payment), succeeded(other), confirm},
			[]bool{true, true, true, true}, domain.StatusComplete, other, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := orderIn(t, domain.StatusCreated)
			for i, step := range tt.steps {
				if got := step(o); got != tt.wantChanged[i] {
					t.Fatalf("step %d reported changed=%v, want %v", i, got, tt.wantChanged[i])
				}
			}
			if o.Status() != tt.want || o.PaymentID() != tt.wantPayment || o.Version() != tt.wantVersion {
				t.Fatalf("order %s paid by %q at v%d, want %s paid by %q at v%d",
					o.Status(), o.PaymentID(), o.Version(), tt.want, tt.wantPayment, tt.wantVersion)
			}
			if restored := domain.RestoreOrder(o.State()); restored.State() != o.State() {
				t.Fatalf("the state does not survive storing: %+v, want %+v", restored.State(), o.State())
			}
		})
	}
}
