package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
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
	return domain.RestorePayment(paymentID, orderID, buyer, 2500, "eur", "pi_1", "pi_1_secret_x", status, now, nil, nil, 3)
}

// event is a Stripe event of type typ about payment(…)'s PaymentIntent
// that matches it: the whole amount, its currency, its metadata.
func event(id string, typ domain.StripeEventType) domain.StripeEvent {
	e := domain.StripeEvent{ID: id, Type: typ, PaymentIntentID: "pi_1", OrderID: orderID, PaymentID: paymentID, Amount: 2500, Currency: "eur"}
	if typ == domain.ChargeRefunded {
		e.ChargeAmount = 2500
	}
	return e
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
		outcome domain.Outcome
	}{
		{domain.StatusPending, domain.IntentSucceeded, domain.StatusSucceeded, domain.OutcomeApplied},
		{domain.StatusPending, domain.IntentFailed, domain.StatusFailed, domain.OutcomeApplied},
		{domain.StatusPending, domain.ChargeRefunded, domain.StatusRefunded, domain.OutcomeApplied}, // delivered before the success
		{domain.StatusFailed, domain.IntentSucceeded, domain.StatusSucceeded, domain.OutcomeApplied},
		{domain.StatusFailed, domain.IntentFailed, domain.StatusFailed, domain.OutcomeUnchanged},
		{domain.StatusFailed, domain.ChargeRefunded, domain.StatusRefunded, domain.OutcomeApplied},
		{domain.StatusSucceeded, domain.IntentSucceeded, domain.StatusSucceeded, domain.OutcomeUnchanged},
		{domain.StatusSucceeded, domain.IntentFailed, domain.StatusSucceeded, domain.OutcomeUnchanged},
		{domain.StatusSucceeded, domain.ChargeRefunded, domain.StatusRefunded, domain.OutcomeApplied},
		{domain.StatusRefunded, domain.IntentSucceeded, domain.StatusRefunded, domain.OutcomeUnchanged},
		{domain.StatusRefunded, domain.IntentFailed, domain.StatusRefunded, domain.OutcomeUnchanged},
		{domain.StatusRefunded, domain.ChargeRefunded, domain.StatusRefunded, domain.OutcomeUnchanged},
		// Held for review: only Stripe's whole refund moves it on.
		{domain.StatusReview, domain.IntentSucceeded, domain.StatusReview, domain.OutcomeUnchanged},
		{domain.StatusReview, domain.IntentFailed, domain.StatusReview, domain.OutcomeUnchanged},
		{domain.StatusReview, domain.ChargeRefunded, domain.StatusRefunded, domain.OutcomeApplied},
		{domain.StatusPending, "customer.created", domain.StatusPending, domain.OutcomeUnchanged},
	}
	for _, c := range cases {
		t.Run(string(c.from)+"+"+string(c.event), func(t *testing.T) {
			t.Parallel()
			p := payment(c.from)
			outcome := p.ApplyStripeEvent(event("evt_1", c.event), now)
			if outcome != c.outcome || p.Status() != c.to {
				t.Fatalf("outcome %s, status %s; want %s, %s", outcome, p.Status(), c.outcome, c.to)
			}
			wantVersion := int64(3)
			if outcome.Changed() {
				wantVersion = 4
			}
			if p.Version() != wantVersion {
				t.Errorf("version %d, want %d", p.Version(), wantVersion)
			}
			if p.Applied("evt_1") != outcome.Changed() {
				t.Errorf("event remembered = %v, want %v (with the change it caused)", p.Applied("evt_1"), outcome.Changed())
			}
		})
	}
}

// TestMismatches_TheMatchingRule: a success completes the order only with
// at least the amount due, in the payment's currency, for this payment and
// order; a refund counts as whole only if it gives back the whole charge
// and at least the amount due.
func TestMismatches_TheMatchingRule(t *testing.T) {
	t.Parallel()
	succeeded := func(change func(*domain.StripeEvent)) domain.StripeEvent {
		e := event("evt_1", domain.IntentSucceeded)
		change(&e)
		return e
	}
	refunded := func(change func(*domain.StripeEvent)) domain.StripeEvent {
		e := event("evt_1", domain.ChargeRefunded)
		change(&e)
		return e
	}
	failed := func(change func(*domain.StripeEvent)) domain.StripeEvent {
		e := event("evt_1", domain.IntentFailed)
		change(&e)
		return e
	}
	cases := map[string]struct {
		e    domain.StripeEvent
		want []domain.Mismatch
	}{
		"exact amount":                {succeeded(func(*domain.StripeEvent) {}), nil},
		"more than due":               {succeeded(func(e *domain.StripeEvent) { e.Amount = 2600 }), nil},
		"one cent short":              {succeeded(func(e *domain.StripeEvent) { e.Amount = 2499 }), []domain.Mismatch{domain.MismatchAmount}},
		"nothing received":            {succeeded(func(e *domain.StripeEvent) { e.Amount = 0 }), []domain.Mismatch{domain.MismatchAmount}},
		"other currency":              {succeeded(func(e *domain.StripeEvent) { e.Currency = "usd" }), []domain.Mismatch{domain.MismatchCurrency}},
		"no currency":                 {succeeded(func(e *domain.StripeEvent) { e.Currency = "" }), []domain.Mismatch{domain.MismatchCurrency}},
		"currency in upper case":      {succeeded(func(e *domain.StripeEvent) { e.Currency = "EUR" }), nil},
		"short and other currency":    {succeeded(func(e *domain.StripeEvent) { e.Amount, e.Currency = 1, "jpy" }), []domain.Mismatch{domain.MismatchAmount, domain.MismatchCurrency}},
		"metadata of another order":   {succeeded(func(e *domain.StripeEvent) { e.OrderID = "65f0000000000000000000ff" }), []domain.Mismatch{domain.MismatchOrder}},
		"metadata of another payment": {succeeded(func(e *domain.StripeEvent) { e.PaymentID = "65f0000000000000000000ee" }), []domain.Mismatch{domain.MismatchPayment}},
		"no metadata":                 {succeeded(func(e *domain.StripeEvent) { e.OrderID, e.PaymentID = "", "" }), nil},
		"whole refund":                {refunded(func(*domain.StripeEvent) {}), nil},
		"partial refund":              {refunded(func(e *domain.StripeEvent) { e.Amount = 1000 }), []domain.Mismatch{domain.MismatchPartialRefund}},
		"refund short of the charge":  {refunded(func(e *domain.StripeEvent) { e.ChargeAmount = 3000 }), []domain.Mismatch{domain.MismatchPartialRefund}},
		"refund in another currency":  {refunded(func(e *domain.StripeEvent) { e.Currency = "usd" }), []domain.Mismatch{domain.MismatchCurrency}},
		"failure of any amount":       {failed(func(e *domain.StripeEvent) { e.Amount, e.Currency = 0, "" }), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := payment(domain.StatusPending).Mismatches(c.e); !slices.Equal(got, c.want) {
				t.Fatalf("Mismatches = %v, want %v", got, c.want)
			}
		})
	}
}

func TestApplyStripeEvent_MismatchHoldsForReview(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		from   domain.Status
		e      domain.StripeEvent
		reason domain.Mismatch
	}{
		"short success":         {domain.StatusPending, domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_1", Amount: 100, Currency: "eur"}, domain.MismatchAmount},
		"short success retried": {domain.StatusFailed, domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_1", Amount: 100, Currency: "eur"}, domain.MismatchAmount},
		"success in usd":        {domain.StatusPending, domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_1", Amount: 2500, Currency: "usd"}, domain.MismatchCurrency},
		"partial refund":        {domain.StatusSucceeded, domain.StripeEvent{ID: "evt_1", Type: domain.ChargeRefunded, PaymentIntentID: "pi_1", Amount: 500, ChargeAmount: 2500, Currency: "eur"}, domain.MismatchPartialRefund},
		"partial refund first":  {domain.StatusPending, domain.StripeEvent{ID: "evt_1", Type: domain.ChargeRefunded, PaymentIntentID: "pi_1", Amount: 500, ChargeAmount: 2500, Currency: "eur"}, domain.MismatchPartialRefund},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := payment(c.from)
			if got := p.ApplyStripeEvent(c.e, now); got != domain.OutcomeHeld {
				t.Fatalf("outcome %s, want %s", got, domain.OutcomeHeld)
			}
			r := p.Review()
			if p.Status() != domain.StatusReview || p.Version() != 4 || !p.Applied("evt_1") || r == nil {
				t.Fatalf("status %s version %d review %+v", p.Status(), p.Version(), r)
			}
			if !slices.Equal(r.Reasons, []domain.Mismatch{c.reason}) || r.EventID != "evt_1" || r.Amount != c.e.Amount || r.Currency != c.e.Currency || !r.HeldAt.Equal(now) {
				t.Fatalf("review record %+v", r)
			}
			// Held already: another mismatch keeps the first record.
			again := c.e
			again.ID, again.Amount = "evt_2", 1
			if got := p.ApplyStripeEvent(again, now); got != domain.OutcomeUnchanged || p.Review().EventID != "evt_1" {
				t.Fatalf("second mismatch: %s, record of %s", got, p.Review().EventID)
			}
		})
	}
}

func TestApplyStripeEvent_OnlyThePaymentsOwnIntent(t *testing.T) {
	t.Parallel()
	noIntent := func(status domain.Status, amount int64) *domain.Payment {
		return domain.RestorePayment(paymentID, orderID, buyer, amount, "eur", "", "", status, now, nil, nil, 1)
	}
	cases := map[string]struct {
		p    *domain.Payment
		e    domain.StripeEvent
		want domain.Outcome
	}{
		"free order, refund carrying an intent":  {noIntent(domain.StatusSucceeded, 0), event("evt_1", domain.ChargeRefunded), domain.OutcomeNoIntent},
		"free order, success carrying an intent": {noIntent(domain.StatusSucceeded, 0), event("evt_1", domain.IntentSucceeded), domain.OutcomeNoIntent},
		"intent never stored, success":           {noIntent(domain.StatusPending, 2500), event("evt_1", domain.IntentSucceeded), domain.OutcomeNoIntent},
		"intent never stored, failure":           {noIntent(domain.StatusPending, 2500), event("evt_1", domain.IntentFailed), domain.OutcomeNoIntent},
		"another intent's success":               {payment(domain.StatusPending), domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_2", Amount: 2500, Currency: "eur"}, domain.OutcomeIntentMismatch},
		"another intent's failure":               {payment(domain.StatusPending), domain.StripeEvent{ID: "evt_1", Type: domain.IntentFailed, PaymentIntentID: "pi_2"}, domain.OutcomeIntentMismatch},
		"another intent's refund":                {payment(domain.StatusSucceeded), domain.StripeEvent{ID: "evt_1", Type: domain.ChargeRefunded, PaymentIntentID: "pi_2", Amount: 2500, ChargeAmount: 2500, Currency: "eur"}, domain.OutcomeIntentMismatch},
		"a charge without intent":                {payment(domain.StatusSucceeded), domain.StripeEvent{ID: "evt_1", Type: domain.ChargeRefunded, Amount: 2500, ChargeAmount: 2500, Currency: "eur"}, domain.OutcomeIntentMismatch},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			before, stripeID := c.p.Status(), c.p.StripeID()
			if got := c.p.ApplyStripeEvent(c.e, now); got != c.want {
				t.Fatalf("outcome %s, want %s", got, c.want)
			}
			if c.p.Status() != before || c.p.StripeID() != stripeID || c.p.Applied(c.e.ID) {
				t.Fatalf("changed: status %s stripeId %q", c.p.Status(), c.p.StripeID())
			}
		})
	}
}

func TestApplyStripeEvent_EachEventOnce(t *testing.T) {
	t.Parallel()
	p := payment(domain.StatusPending)
	failed := event("evt_failed", domain.IntentFailed)
	succeeded := event("evt_succeeded", domain.IntentSucceeded)
	refunded := event("evt_refunded", domain.ChargeRefunded)
	steps := []struct {
		e       domain.StripeEvent
		outcome domain.Outcome
		status  domain.Status
	}{
		{failed, domain.OutcomeApplied, domain.StatusFailed},
		{failed, domain.OutcomeDuplicate, domain.StatusFailed},
		{succeeded, domain.OutcomeApplied, domain.StatusSucceeded},
		{succeeded, domain.OutcomeDuplicate, domain.StatusSucceeded},
		{failed, domain.OutcomeDuplicate, domain.StatusSucceeded},
		{refunded, domain.OutcomeApplied, domain.StatusRefunded},
		{refunded, domain.OutcomeDuplicate, domain.StatusRefunded},
		{succeeded, domain.OutcomeDuplicate, domain.StatusRefunded},
	}
	for i, s := range steps {
		if got := p.ApplyStripeEvent(s.e, now); got != s.outcome || p.Status() != s.status {
			t.Fatalf("step %d (%s): outcome %s status %s, want %s %s", i, s.e.ID, got, p.Status(), s.outcome, s.status)
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
	p.ApplyStripeEvent(event("evt_a", domain.IntentFailed), now)
	if got := p.ApplyStripeEvent(event("evt_b", domain.IntentFailed), now); got != domain.OutcomeUnchanged {
		t.Fatalf("a second failure: %s", got)
	}
	if got := p.ApplyStripeEvent(event("evt_c", domain.IntentSucceeded), now); got != domain.OutcomeApplied || p.Status() != domain.StatusSucceeded {
		t.Fatalf("success after a failure: %s, status %s", got, p.Status())
	}
}

func TestApplyStripeEvent_IgnoresEventWithoutID(t *testing.T) {
	t.Parallel()
	p := payment(domain.StatusPending)
	if got := p.ApplyStripeEvent(event("", domain.IntentSucceeded), now); got.Changed() {
		t.Fatalf("an event without id was applied: %s", got)
	}
}

func TestApplyStripeEvent_RemembersABoundedNumberOfEvents(t *testing.T) {
	t.Parallel()
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = "evt_old"
	}
	p := domain.RestorePayment(paymentID, orderID, buyer, 2500, "eur", "pi_1", "", domain.StatusPending, now, ids, nil, 0)
	p.ApplyStripeEvent(event("evt_new", domain.IntentSucceeded), now)
	if got := p.StripeEvents(); len(got) != 64 || got[63] != "evt_new" {
		t.Fatalf("remembered %d events, last %q", len(got), got[len(got)-1])
	}
}

func TestResolve_OnlyAPaymentInReview(t *testing.T) {
	t.Parallel()
	const admin = "6a1f7c1e-0000-4000-8000-0000000000ad"
	cases := []struct {
		from    domain.Status
		action  domain.Resolution
		to      domain.Status
		changed bool
		err     error
	}{
		{domain.StatusReview, domain.ResolveAccept, domain.StatusSucceeded, true, nil},
		{domain.StatusReview, domain.ResolveRefund, domain.StatusRefunded, true, nil},
		{domain.StatusRefunded, domain.ResolveRefund, domain.StatusRefunded, false, nil},
		{domain.StatusRefunded, domain.ResolveAccept, domain.StatusRefunded, false, domain.ErrNotInReview},
		{domain.StatusPending, domain.ResolveAccept, domain.StatusPending, false, domain.ErrNotInReview},
		{domain.StatusSucceeded, domain.ResolveRefund, domain.StatusSucceeded, false, domain.ErrNotInReview},
		{domain.StatusFailed, domain.ResolveAccept, domain.StatusFailed, false, domain.ErrNotInReview},
	}
	for _, c := range cases {
		t.Run(string(c.from)+"/"+string(c.action), func(t *testing.T) {
			t.Parallel()
			held := &domain.Review{Reasons: []domain.Mismatch{domain.MismatchAmount}, EventID: "evt_1", Amount: 100, Currency: "eur", HeldAt: now}
			p := domain.RestorePayment(paymentID, orderID, buyer, 2500, "eur", "pi_1", "", c.from, now, []string{"evt_1"}, held, 3)
			changed, err := p.Resolve(c.action, admin, now.Add(time.Minute))
			if changed != c.changed || !errors.Is(err, c.err) || p.Status() != c.to {
				t.Fatalf("Resolve = %v, %v, status %s; want %v, %v, %s", changed, err, p.Status(), c.changed, c.err, c.to)
			}
			if r := p.Review(); c.changed && (r.Resolution != c.action || r.ResolvedBy != admin || !r.ResolvedAt.Equal(now.Add(time.Minute)) || r.EventID != "evt_1" || p.Version() != 4) {
				t.Fatalf("review record %+v, version %d", r, p.Version())
			}
		})
	}
}

func TestParseResolutionAndStatus(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"accept", "refund"} {
		if r, err := domain.ParseResolution("action", raw); err != nil || string(r) != raw {
			t.Errorf("ParseResolution(%q) = %q, %v", raw, r, err)
		}
	}
	for _, raw := range []string{"", "Accept", "refund ", "cancel"} {
		if _, err := domain.ParseResolution("action", raw); err == nil {
			t.Errorf("ParseResolution(%q) accepted", raw)
		}
	}
	for _, s := range domain.Statuses {
		if got, err := domain.ParseStatus("status", string(s)); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
	for _, raw := range []string{"", "REVIEW", "held"} {
		if _, err := domain.ParseStatus("status", raw); err == nil {
			t.Errorf("ParseStatus(%q) accepted", raw)
		}
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
		{domain.StatusReview, false, domain.ErrPaymentInReview},
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
		{domain.StatusReview, domain.OrderCancelled, false},
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

// TestOrder_RefundOnRequestOnlyOnceNotCreated: a buyer's refund of a
// payment whose order is still created (paid, its reservation not yet
// confirmed) is refused with order_not_complete; cancelling the order is
// how a buyer gives up a ticket not yet theirs, and its payment is refunded
// then. Once complete (or cancelled, refunded) the request is looked at.
func TestOrder_RefundOnRequestOnlyOnceNotCreated(t *testing.T) {
	t.Parallel()
	for status, want := range map[domain.OrderStatus]string{
		domain.OrderCreated:   "order_not_complete",
		domain.OrderComplete:  "",
		domain.OrderCancelled: "",
		domain.OrderRefunded:  "",
	} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			err := order(status, 2500).RefundableOnRequest()
			e, _ := apierr.As(err)
			switch {
			case want == "" && err != nil:
				t.Fatalf("a %s order refused the refund: %v", status, err)
			case want != "" && (e == nil || e.Code != want || e.Kind != apierr.KindConflict):
				t.Fatalf("a %s order answered %v, want a conflict %s", status, err, want)
			}
		})
	}
}
