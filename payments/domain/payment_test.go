package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
)

const (
	paymentID = "65f000000000000000000001"
	orderID   = "65f000000000000000000002"
	buyer     = "6a1f7c1e-0000-4000-8000-000000000001"
	seller    = "6a1f7c1e-0000-4000-8000-000000000002"
)

var now = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func order(status domain.OrderStatus, amount int64) domain.Order {
	return domain.Order{ID: orderID, BuyerID: buyer, SellerID: seller, Status: status, Amount: amount, Currency: "eur", Version: 0}
}

// payment returns a payment in status, with a PaymentIntent attached.
func payment(status domain.Status) *domain.Payment {
	return domain.RestorePayment(paymentID, orderID, buyer, 2500, "eur", "pi_1", "pi_1_secret_x", status, now, nil, 3)
}

func TestNewPayment_TakesAmountAndCurrencyFromTheOrder(t *testing.T) {
	t.Parallel()
	p, err := domain.NewPayment(paymentID, order(domain.OrderCreated, 2500), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status() != domain.StatusPending || p.Amount() != 2500 || p.Currency() != "eur" ||
		p.UserID() != buyer || p.OrderID() != orderID || p.Version() != 0 || !p.NeedsIntent() {
		t.Fatalf("unexpected new payment: %+v", p)
	}
}

func TestNewPayment_FreeOrderSucceedsWithoutStripe(t *testing.T) {
	t.Parallel()
	p, err := domain.NewPayment(paymentID, order(domain.OrderCreated, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status() != domain.StatusSucceeded || !p.Free() || p.NeedsIntent() || p.Version() != 0 {
		t.Fatalf("a free payment should be born succeeded without an intent: status %s", p.Status())
	}
}

func TestNewPayment_RejectsOrdersNoLongerPayable(t *testing.T) {
	t.Parallel()
	for _, status := range []domain.OrderStatus{domain.OrderCancelled, domain.OrderComplete, domain.OrderRefunded} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewPayment(paymentID, order(status, 2500), now)
			if !errors.Is(err, domain.ErrOrderNotPayable) {
				t.Fatalf("err = %v, want ErrOrderNotPayable", err)
			}
		})
	}
}

func TestNewPayment_RejectsBadInput(t *testing.T) {
	t.Parallel()
	bad := map[string]struct {
		id string
		o  domain.Order
	}{
		"malformed id":    {"xyz", order(domain.OrderCreated, 1)},
		"no order id":     {paymentID, domain.Order{BuyerID: buyer, Status: domain.OrderCreated, Currency: "eur"}},
		"no buyer":        {paymentID, domain.Order{ID: orderID, Status: domain.OrderCreated, Currency: "eur"}},
		"negative amount": {paymentID, order(domain.OrderCreated, -1)},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := domain.NewPayment(c.id, c.o, now); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestApplyStripeEvent_Transitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from    domain.Status
		event   domain.StripeEventType
		to      domain.Status
		changed bool
	}{
		{domain.StatusPending, domain.IntentSucceeded, domain.StatusSucceeded, true},
		{domain.StatusPending, domain.IntentFailed, domain.StatusFailed, true},
		{domain.StatusPending, domain.ChargeRefunded, domain.StatusPending, false},
		{domain.StatusFailed, domain.IntentSucceeded, domain.StatusSucceeded, true},
		{domain.StatusFailed, domain.IntentFailed, domain.StatusFailed, false},
		{domain.StatusFailed, domain.ChargeRefunded, domain.StatusFailed, false},
		{domain.StatusSucceeded, domain.IntentSucceeded, domain.StatusSucceeded, false},
		{domain.StatusSucceeded, domain.IntentFailed, domain.StatusSucceeded, false},
		{domain.StatusSucceeded, domain.ChargeRefunded, domain.StatusRefunded, true},
		{domain.StatusRefunded, domain.IntentSucceeded, domain.StatusRefunded, false},
		{domain.StatusRefunded, domain.IntentFailed, domain.StatusRefunded, false},
		{domain.StatusRefunded, domain.ChargeRefunded, domain.StatusRefunded, false},
		{domain.StatusPending, "customer.created", domain.StatusPending, false},
	}
	for _, c := range cases {
		t.Run(string(c.from)+"+"+string(c.event), func(t *testing.T) {
			t.Parallel()
			p := payment(c.from)
			changed := p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_1", Type: c.event, PaymentIntentID: "pi_1"})
			if changed != c.changed || p.Status() != c.to {
				t.Fatalf("changed=%v status=%s, want changed=%v status=%s", changed, p.Status(), c.changed, c.to)
			}
			wantVersion := int64(3)
			if c.changed {
				wantVersion = 4
			}
			if p.Version() != wantVersion {
				t.Errorf("version %d, want %d", p.Version(), wantVersion)
			}
			if p.Applied("evt_1") != c.changed {
				t.Errorf("event remembered = %v, want %v (with the change it caused)", p.Applied("evt_1"), c.changed)
			}
		})
	}
}

func TestApplyStripeEvent_EachEventOnce(t *testing.T) {
	t.Parallel()
	p := payment(domain.StatusPending)
	failed := domain.StripeEvent{ID: "evt_failed", Type: domain.IntentFailed}
	succeeded := domain.StripeEvent{ID: "evt_succeeded", Type: domain.IntentSucceeded}
	refunded := domain.StripeEvent{ID: "evt_refunded", Type: domain.ChargeRefunded}
	steps := []struct {
		e       domain.StripeEvent
		changed bool
		status  domain.Status
	}{
		{failed, true, domain.StatusFailed},
		{failed, false, domain.StatusFailed},
		{succeeded, true, domain.StatusSucceeded},
		{succeeded, false, domain.StatusSucceeded},
		{failed, false, domain.StatusSucceeded},
		{refunded, true, domain.StatusRefunded},
		{refunded, false, domain.StatusRefunded},
		{succeeded, false, domain.StatusRefunded},
	}
	for i, s := range steps {
		if changed := p.ApplyStripeEvent(s.e); changed != s.changed || p.Status() != s.status {
			t.Fatalf("step %d (%s): changed=%v status=%s, want %v %s", i, s.e.ID, changed, p.Status(), s.changed, s.status)
		}
	}
	if got := p.StripeEvents(); len(got) != 3 {
		t.Fatalf("remembered %v, want the three events that changed it", got)
	}
	if p.Version() != 6 {
		t.Fatalf("version %d, want 3 + 3 changes", p.Version())
	}
}

func TestApplyStripeEvent_SameTypeNewEventIDAfterRetry(t *testing.T) {
	t.Parallel()
	// A second failed attempt (new event id) leaves the payment failed; a
	// success after it still applies.
	p := payment(domain.StatusPending)
	p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_a", Type: domain.IntentFailed})
	if p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_b", Type: domain.IntentFailed}) {
		t.Fatal("a second failure changed the payment")
	}
	if !p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_c", Type: domain.IntentSucceeded}) || p.Status() != domain.StatusSucceeded {
		t.Fatalf("success after a failure: status %s", p.Status())
	}
}

func TestApplyStripeEvent_IgnoresEventWithoutID(t *testing.T) {
	t.Parallel()
	p := payment(domain.StatusPending)
	if p.ApplyStripeEvent(domain.StripeEvent{Type: domain.IntentSucceeded}) {
		t.Fatal("an event without id was applied")
	}
}

func TestApplyStripeEvent_RemembersABoundedNumberOfEvents(t *testing.T) {
	t.Parallel()
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = "evt_old"
	}
	p := domain.RestorePayment(paymentID, orderID, buyer, 1, "eur", "pi_1", "", domain.StatusPending, now, ids, 0)
	p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_new", Type: domain.IntentSucceeded})
	if got := p.StripeEvents(); len(got) != 64 || got[63] != "evt_new" {
		t.Fatalf("remembered %d events, last %q", len(got), got[len(got)-1])
	}
}

func TestApplyStripeEvent_AttachesTheIntentOfAPaymentFoundByMetadata(t *testing.T) {
	t.Parallel()
	p := domain.RestorePayment(paymentID, orderID, buyer, 2500, "eur", "", "", domain.StatusPending, now, nil, 0)
	p.ApplyStripeEvent(domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_9"})
	if p.StripeID() != "pi_9" {
		t.Fatalf("stripeId %q, want pi_9", p.StripeID())
	}
}

func TestAttachIntent_KeepsTheFirst(t *testing.T) {
	t.Parallel()
	p, _ := domain.NewPayment(paymentID, order(domain.OrderCreated, 2500), now)
	if !p.AttachIntent("pi_a", "pi_a_secret") || p.Version() != 1 || p.NeedsIntent() {
		t.Fatalf("first attach: version %d", p.Version())
	}
	if p.AttachIntent("pi_b", "pi_b_secret") || p.StripeID() != "pi_a" || p.Version() != 1 {
		t.Fatalf("second attach replaced the first: %s", p.StripeID())
	}
}

func TestRefund_OnlyFromSucceeded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from    domain.Status
		changed bool
		err     error
	}{
		{domain.StatusSucceeded, true, nil},
		{domain.StatusRefunded, false, nil},
		{domain.StatusPending, false, domain.ErrNotRefundable},
		{domain.StatusFailed, false, domain.ErrNotRefundable},
	}
	for _, c := range cases {
		t.Run(string(c.from), func(t *testing.T) {
			t.Parallel()
			p := payment(c.from)
			if err := p.CanRefund(); (err == nil) != (c.from == domain.StatusSucceeded) {
				t.Errorf("CanRefund = %v", err)
			}
			changed, err := p.Refund()
			if changed != c.changed || !errors.Is(err, c.err) {
				t.Fatalf("Refund = %v, %v; want %v, %v", changed, err, c.changed, c.err)
			}
			if c.changed && (p.Status() != domain.StatusRefunded || p.Version() != 4) {
				t.Fatalf("status %s version %d", p.Status(), p.Version())
			}
		})
	}
}

func TestMustRefundFor_SucceededPaymentOfCancelledOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		payment domain.Status
		order   domain.OrderStatus
		want    bool
	}{
		{domain.StatusSucceeded, domain.OrderCancelled, true},
		{domain.StatusSucceeded, domain.OrderCreated, false},
		{domain.StatusSucceeded, domain.OrderComplete, false},
		{domain.StatusPending, domain.OrderCancelled, false},
		{domain.StatusFailed, domain.OrderCancelled, false},
		{domain.StatusRefunded, domain.OrderCancelled, false},
	}
	for _, c := range cases {
		t.Run(string(c.payment)+"/"+string(c.order), func(t *testing.T) {
			t.Parallel()
			if got := payment(c.payment).MustRefundFor(order(c.order, 2500)); got != c.want {
				t.Fatalf("MustRefundFor = %v, want %v", got, c.want)
			}
		})
	}
	other := order(domain.OrderCancelled, 2500)
	other.ID = "65f0000000000000000000ff"
	if payment(domain.StatusSucceeded).MustRefundFor(other) {
		t.Fatal("refunded for another order's cancellation")
	}
}

func TestClientSecretFor_OnlyTheBuyer(t *testing.T) {
	t.Parallel()
	p := payment(domain.StatusPending)
	if p.ClientSecretFor(buyer) != "pi_1_secret_x" {
		t.Fatal("the buyer does not see the client secret")
	}
	for _, other := range []string{seller, ""} {
		if p.ClientSecretFor(other) != "" {
			t.Fatalf("%q sees the client secret", other)
		}
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		raw, want string
		ok        bool
	}{
		"canonical":  {orderID, orderID, true},
		"upper case": {"65F000000000000000000002", "", false},
		"missing":    {"", "", false},
		"short":      {"65f0", "", false},
		"not hex":    {"zzzzzzzzzzzzzzzzzzzzzzzz", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseID("orderId", c.raw)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("ParseID(%q) = %q, %v", c.raw, got, err)
			}
		})
	}
}
