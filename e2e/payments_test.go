package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/internal/admin"
	"github.com/ticketing/ticketing/internal/stripeevent"
	"github.com/ticketing/ticketing/pkg/config"
)

// The payments service end to end: a buyer pays through a Stripe
// PaymentIntent (stripe-mock), and Stripe's part — the signed webhook
// event — is played by internal/stripeevent, exactly as `go run
// ./cmd/stripe` plays it for a developer.

// paymentJSON is a payment as the payments API shows it.
type paymentJSON struct {
	ID           string `json:"id"`
	OrderID      string `json:"orderId"`
	UserID       string `json:"userId"`
	StripeID     string `json:"stripeId"`
	ClientSecret string `json:"clientSecret"`
	Status       string `json:"status"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	Version      int64  `json:"version"`
}

// webhookResult is the webhook's answer to Stripe.
type webhookResult struct {
	Received bool   `json:"received"`
	ID       string `json:"id"`
	Outcome  string `json:"outcome"`
}

var (
	secretOnce sync.Once
	secret     string
)

// webhookSecret is the stack's STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET
// when the runner exports it, else the runner's fixed development value,
// which the test stack uses.
func webhookSecret(t testing.TB) string {
	t.Helper()
	secretOnce.Do(func() {
		secret = stackEnv["TEST_STRIPE_WEBHOOK_SECRET"]
		if secret == "" {
			secret = config.DevelopmentSecrets["STRIPE_WEBHOOK_SECRET"]
		}
	})
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("no Stripe webhook secret for the stack under test (got %q)", secret)
	}
	return secret
}

// payOrder posts POST /api/payments for orderID as buyer, once: a buyer
// pays an order the moment its 201 arrives, and payments answers it
// whether or not order.created has reached it yet (it asks orders).
func payOrder(t testing.TB, buyer user, orderID string) response {
	t.Helper()
	return do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": orderID}})
}

// pay starts the payment of order o as buyer and checks the 201.
func pay(t testing.TB, buyer user, o orderJSON) paymentJSON {
	t.Helper()
	var p paymentJSON
	payOrder(t, buyer, o.ID).wantStatus(t, http.StatusCreated).decode(t, &p)
	if p.ID == "" || p.OrderID != o.ID || p.UserID != buyer.ID || p.Status != "pending" ||
		p.Amount != o.Ticket.Price || p.Currency != o.Ticket.Currency ||
		!strings.HasPrefix(p.StripeID, "pi_") || !strings.Contains(p.ClientSecret, "_secret_") {
		t.Fatalf("new payment %+v for order %+v", p, o)
	}
	return p
}

// stripeEvent builds Stripe's event of type word (succeeded, failed,
// refunded) about the payment, read from the payments database as
// cmd/stripe reads it.
func stripeEvent(t testing.TB, word, paymentID string) stripeevent.Event {
	t.Helper()
	typ, err := stripeevent.ParseType(word)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := stripeevent.Find(ctx, mongoDB(t, "payments"), paymentID)
	if err != nil {
		t.Fatal(err)
	}
	e, err := stripeevent.New(typ, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// deliver sends e as Stripe does, signed now, and returns the answer.
func deliver(t testing.TB, e stripeevent.Event) response {
	t.Helper()
	return sendSigned(t, e.Payload, stripeevent.Sign(e.Payload, webhookSecret(t), time.Now()))
}

func sendSigned(t testing.TB, payload []byte, signature string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := stripeevent.Send(ctx, httpClient, baseURL(), payload, signature)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.Status, Header: resp.Header, Body: resp.Body}
}

// deliverOutcome sends e and checks that the webhook answered 200 with
// outcome.
func deliverOutcome(t testing.TB, e stripeevent.Event, outcome string) {
	t.Helper()
	var res webhookResult
	deliver(t, e).wantStatus(t, http.StatusOK).decode(t, &res)
	if !res.Received || res.ID != e.ID || res.Outcome != outcome {
		t.Fatalf("webhook answered %+v, want outcome %q for %s", res, outcome, e.ID)
	}
}

func getPayment(t testing.TB, who user, path string) paymentJSON {
	t.Helper()
	var p paymentJSON
	do(t, request{Method: "GET", Path: path, Token: who.Token}).wantStatus(t, http.StatusOK).decode(t, &p)
	return p
}

// waitPayment waits until the buyer sees the payment in status.
func waitPayment(t testing.TB, buyer user, id, status string) paymentJSON {
	t.Helper()
	var p paymentJSON
	eventually(t, 15*time.Second, fmt.Sprintf("payment %s never became %s", id, status), func() bool {
		p = getPayment(t, buyer, "/api/payments/"+id)
		return p.Status == status
	})
	return p
}

// waitOrderStatus waits until who sees the order in status.
func waitOrderStatus(t testing.TB, who user, id, status string) orderJSON {
	t.Helper()
	var o orderJSON
	eventually(t, 15*time.Second, fmt.Sprintf("order %s never became %s", id, status), func() bool {
		o = getOrder(t, who, id)
		return o.Status == status
	})
	return o
}

// waitPaymentsReplica waits until the payments service's copy of the order
// has status.
func waitPaymentsReplica(t testing.TB, orderID, status string) {
	t.Helper()
	orders := mongoDB(t, "payments").Collection("orders")
	eventually(t, 15*time.Second, fmt.Sprintf("the payments replica never saw order %s %s", orderID, status), func() bool {
		n, err := orders.CountDocuments(context.Background(), bson.M{"_id": orderID, "status": status})
		return err == nil && n == 1
	})
}

func ordersOf(t testing.TB, who user, query string) []orderJSON {
	t.Helper()
	var page struct{ Items []orderJSON }
	do(t, request{Method: "GET", Path: "/api/orders?limit=100" + query, Token: who.Token}).wantStatus(t, http.StatusOK).decode(t, &page)
	return page.Items
}

func containsOrder(list []orderJSON, id, status string) bool {
	for _, o := range list {
		if o.ID == id && o.Status == status {
			return true
		}
	}
	return false
}

// paidOrder lists a ticket at price, orders it as buyer, pays it and has
// Stripe report the success; it returns the ticket, the completed order
// and the payment.
func paidOrder(t testing.TB, seller, buyer user, price int64) (ticketJSON, orderJSON, paymentJSON) {
	t.Helper()
	tk := createTicket(t, seller, uniqueTitle("Paid"), price)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	o = waitOrderStatus(t, buyer, o.ID, "complete")
	waitTicket(t, tk.ID, "sold", o.ID)
	return tk, o, p
}

func TestPaymentJourney_ListOrderPayComplete(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger")
	title := uniqueTitle("Paid Opera Night")
	tk := createTicket(t, seller, title, 4200)

	var found bool
	eventually(t, 10*time.Second, "the buyer never found the ticket by name", func() bool {
		found = containsTicket(availableWithTitle(t, strings.ToLower(title)), tk.ID)
		return found
	})
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	if p.Amount != 4200 || p.Currency != "eur" {
		t.Fatalf("payment %+v is not for the ticket's price", p)
	}

	// Stripe reports the success, signed as Stripe signs.
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	paid := waitPayment(t, buyer, p.ID, "succeeded")
	if paid.ClientSecret == "" || paid.StripeID != p.StripeID {
		t.Fatalf("the buyer's view %+v", paid)
	}
	complete := waitOrderStatus(t, buyer, o.ID, "complete")
	if complete.PaymentID != p.ID {
		t.Fatalf("complete order %+v does not name payment %s", complete, p.ID)
	}
	waitTicket(t, tk.ID, "sold", o.ID)

	// Sold stays sold: not listed, not orderable.
	if containsTicket(availableWithTitle(t, title), tk.ID) {
		t.Fatal("a sold ticket is listed as available")
	}
	late := signUp(t, "late-buyer")
	do(t, request{Method: "POST", Path: "/api/orders", Token: late.Token, Body: map[string]string{"ticketId": tk.ID}}).
		wantStatus(t, http.StatusConflict)
	if tkNow := getTicket(t, tk.ID); tkNow.Status != "sold" {
		t.Fatalf("ticket %s after a refused order", tkNow.Status)
	}

	// Both see the order in their lists.
	if !containsOrder(ordersOf(t, buyer, ""), o.ID, "complete") {
		t.Fatal("the buyer's purchases lack the complete order")
	}
	if !containsOrder(ordersOf(t, seller, "&as=seller"), o.ID, "complete") {
		t.Fatal("the seller's sales lack the complete order")
	}

	// The seller sees the payment, without the buyer's client secret.
	for _, path := range []string{"/api/payments/" + p.ID, "/api/payments?orderId=" + o.ID} {
		seen := getPayment(t, seller, path)
		if seen.ID != p.ID || seen.Status != "succeeded" || seen.ClientSecret != "" {
			t.Fatalf("the seller sees %+v at %s", seen, path)
		}
		if mine := getPayment(t, buyer, path); mine.ClientSecret == "" {
			t.Fatalf("the buyer does not see the client secret at %s", path)
		}
		// A stranger cannot tell it exists.
		do(t, request{Method: "GET", Path: path, Token: stranger.Token}).wantError(t, http.StatusNotFound, "payment_not_found", "")
	}
	// Paying a complete order again is a conflict.
	do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": o.ID}}).
		wantError(t, http.StatusConflict, "order_not_payable", "")
}

func TestPayments_FreeOrderCompletesWithoutStripe(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Free Rehearsal"), 0)
	o := placeOrder(t, buyer, tk.ID)
	var p paymentJSON
	payOrder(t, buyer, o.ID).wantStatus(t, http.StatusCreated).decode(t, &p)
	if p.Status != "succeeded" || p.Amount != 0 || p.StripeID != "" {
		t.Fatalf("free payment %+v", p)
	}
	waitOrderStatus(t, buyer, o.ID, "complete")
	waitTicket(t, tk.ID, "sold", o.ID)
}

// TestPayments_PaysAnOrderItsEventHasNotBroughtYet: a buyer pays the
// moment the order's 201 arrives, when under load order.created may still
// be queued for payments. Payments then reads the order from the orders
// service with the buyer's session and keeps it as the event would; the
// order's replica copy is removed here to stand for the queued event.
func TestPayments_PaysAnOrderItsEventHasNotBroughtYet(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger")
	tk := createTicket(t, seller, uniqueTitle("Early Payer"), 4200)
	o := placeOrder(t, buyer, tk.ID)
	if o.Ticket.UserID != seller.ID {
		t.Fatalf("the order names seller %q, want %q", o.Ticket.UserID, seller.ID)
	}
	waitPaymentsReplica(t, o.ID, "created")
	replica := mongoDB(t, "payments").Collection("orders")
	if _, err := replica.DeleteOne(context.Background(), bson.M{"_id": o.ID}); err != nil {
		t.Fatal(err)
	}
	// Nobody but the buyer learns of the order this way.
	do(t, request{Method: "POST", Path: "/api/payments", Token: stranger.Token, Body: map[string]string{"orderId": o.ID}}).
		wantError(t, http.StatusNotFound, "order_not_found", "")
	do(t, request{Method: "POST", Path: "/api/payments", Token: seller.Token, Body: map[string]string{"orderId": o.ID}}).
		wantError(t, http.StatusForbidden, "not_order_buyer", "")
	p := pay(t, buyer, o)
	if p.Amount != 4200 {
		t.Fatalf("payment of %d, want the ticket's 4200", p.Amount)
	}
	var kept struct {
		UserID   string `bson:"userId"`
		SellerID string `bson:"sellerId"`
		Status   string `bson:"status"`
		Amount   int64  `bson:"amount"`
	}
	if err := replica.FindOne(context.Background(), bson.M{"_id": o.ID}).Decode(&kept); err != nil {
		t.Fatalf("the replica did not keep the order it read: %v", err)
	}
	if kept.UserID != buyer.ID || kept.SellerID != seller.ID || kept.Status != "created" || kept.Amount != 4200 {
		t.Fatalf("replica copy %+v", kept)
	}
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	waitOrderStatus(t, buyer, o.ID, "complete")
	waitTicket(t, tk.ID, "sold", o.ID)
}

func TestPayments_SameWebhookTwiceAppliesOnce(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Twice"), 1500)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	e := stripeEvent(t, "succeeded", p.ID)
	deliverOutcome(t, e, "applied")
	deliverOutcome(t, e, "duplicate") // Stripe's redelivery, signed anew
	done := waitOrderStatus(t, buyer, o.ID, "complete")
	after := getPayment(t, buyer, "/api/payments/"+p.ID)
	if after.Status != "succeeded" || after.Version != p.Version+1 {
		t.Fatalf("payment %+v after one success delivered twice (was version %d)", after, p.Version)
	}
	var stored struct {
		StripeEvents []string `bson:"stripeEvents"`
	}
	if err := mongoDB(t, "payments").Collection("payments").FindOne(context.Background(), bson.M{"_id": p.ID}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.StripeEvents) != 1 || stored.StripeEvents[0] != e.ID {
		t.Fatalf("stored event ids %v, want [%s]", stored.StripeEvents, e.ID)
	}
	// The order completed once: a later look finds the same version.
	time.Sleep(500 * time.Millisecond)
	if again := getOrder(t, buyer, o.ID); again.Version != done.Version {
		t.Fatalf("order version %d after %d: completed twice", again.Version, done.Version)
	}
}

func TestPayments_ConcurrentDoublePostMakesOnePayment(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Double click"), 2000)
	o := placeOrder(t, buyer, tk.ID)
	waitPaymentsReplica(t, o.ID, "created")
	const clicks = 4
	answers := make([]response, clicks)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = doOnce(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": o.ID}})
		}()
	}
	wg.Wait()
	created, seen := 0, map[string]bool{}
	for _, a := range answers {
		var p paymentJSON
		switch a.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("status %d: %s", a.Status, a.Body)
		}
		a.decode(t, &p)
		seen[p.ID+" "+p.StripeID] = true
	}
	if created != 1 || len(seen) != 1 {
		t.Fatalf("%d answers were 201, payments/intents answered: %v", created, seen)
	}
	n, err := mongoDB(t, "payments").Collection("payments").CountDocuments(context.Background(), bson.M{"orderId": o.ID})
	if err != nil || n != 1 {
		t.Fatalf("%d payments stored for the order (%v)", n, err)
	}
}

func TestPayments_RefundReleasesTheTicket(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger")
	tk, o, p := paidOrder(t, seller, buyer, 3300)

	refund := func(who user) response {
		return do(t, request{Method: "POST", Path: "/api/payments/" + p.ID + "/refund", Token: who.Token})
	}
	refund(seller).wantError(t, http.StatusForbidden, "refund_forbidden", "")
	refund(stranger).wantError(t, http.StatusNotFound, "payment_not_found", "")

	var refunded paymentJSON
	refund(buyer).wantStatus(t, http.StatusOK).decode(t, &refunded)
	if refunded.Status != "refunded" || refunded.ID != p.ID {
		t.Fatalf("refund answered %+v", refunded)
	}
	refund(buyer).wantError(t, http.StatusConflict, "payment_not_refundable", "")

	waitOrderStatus(t, buyer, o.ID, "refunded")
	waitTicket(t, tk.ID, "available", "")
	// Orderable again, by anyone but its seller.
	next := signUp(t, "next-buyer")
	if again := placeOrder(t, next, tk.ID); again.Ticket.ID != tk.ID {
		t.Fatalf("new order %+v", again)
	}
	// Stripe's own charge.refunded for the same refund changes nothing.
	deliverOutcome(t, stripeEvent(t, "refunded", p.ID), "unchanged")
}

func TestPayments_AdminMayRefundAndSeeAnyPayment(t *testing.T) {
	t.Parallel()
	seller, buyer, adminUser := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "admin")
	_, o, p := paidOrder(t, seller, buyer, 1100)
	do(t, request{Method: "GET", Path: "/api/payments/" + p.ID, Token: adminUser.Token}).wantError(t, http.StatusNotFound, "payment_not_found", "")
	admins, err := admin.New(stackEnv["TEST_KRATOS_ADMIN_URL"], stackEnv["TEST_KETO_READ_URL"], stackEnv["TEST_KETO_WRITE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admins.Grant(ctx, adminUser.ID); err != nil {
		t.Fatal(err)
	}
	if seen := getPayment(t, adminUser, "/api/payments?orderId="+o.ID); seen.ID != p.ID || seen.ClientSecret != "" {
		t.Fatalf("the admin sees %+v", seen)
	}
	var refunded paymentJSON
	do(t, request{Method: "POST", Path: "/api/payments/" + p.ID + "/refund", Token: adminUser.Token}).
		wantStatus(t, http.StatusOK).decode(t, &refunded)
	if refunded.Status != "refunded" {
		t.Fatalf("admin refund answered %+v", refunded)
	}
	waitOrderStatus(t, buyer, o.ID, "refunded")
}

func TestPayments_FailedPaymentKeepsTheHold(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Declined"), 900)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	deliverOutcome(t, stripeEvent(t, "failed", p.ID), "applied")
	waitPayment(t, buyer, p.ID, "failed")
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("order %s after a failed payment, want created (still held)", got.Status)
	}
	waitTicket(t, tk.ID, "reserved", o.ID)
	// The buyer tries again: the same payment, and then Stripe succeeds.
	var again paymentJSON
	do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": o.ID}}).
		wantStatus(t, http.StatusOK).decode(t, &again)
	if again.ID != p.ID || again.StripeID != p.StripeID || again.Status != "failed" {
		t.Fatalf("retry answered %+v", again)
	}
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	waitOrderStatus(t, buyer, o.ID, "complete")
}

func TestPayments_LateSuccessForACancelledOrderIsRefunded(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Too late"), 2700)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	do(t, request{Method: "DELETE", Path: "/api/orders/" + o.ID, Token: buyer.Token}).wantStatus(t, http.StatusOK)
	waitPaymentsReplica(t, o.ID, "cancelled")
	// Another buyer takes the released ticket meanwhile.
	waitTicket(t, tk.ID, "available", "")
	other := signUp(t, "other-buyer")
	held := placeOrder(t, other, tk.ID)
	reserved := waitTicket(t, tk.ID, "reserved", held.ID)

	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	waitPayment(t, buyer, p.ID, "refunded")
	// payment.refunded.v1 reaches orders, which ignores it for a cancelled
	// order: give it the time it would take to do anything, then look.
	time.Sleep(time.Second)
	if got := getOrder(t, buyer, o.ID); got.Status != "cancelled" {
		t.Fatalf("the cancelled order became %s", got.Status)
	}
	if got := getTicket(t, tk.ID); got.Status != "reserved" || got.OrderID != held.ID || got.Version != reserved.Version {
		t.Fatalf("ticket %+v, want it still held by the other buyer's order %s at version %d", got, held.ID, reserved.Version)
	}
	if got := getOrder(t, other, held.ID); got.Status != "created" {
		t.Fatalf("the other buyer's order became %s", got.Status)
	}
}

func TestPayments_BadInput(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger")
	tk := createTicket(t, seller, uniqueTitle("Bad payment input"), 1200)
	o := placeOrder(t, buyer, tk.ID)
	waitPaymentsReplica(t, o.ID, "created")

	t.Run("webhook signatures", func(t *testing.T) {
		e := stripeEvent(t, "succeeded", newPaymentFor(t, buyer, o).ID)
		sendSigned(t, e.Payload, "").wantError(t, http.StatusBadRequest, "invalid_signature", "")
		sendSigned(t, e.Payload, stripeevent.Sign(e.Payload, "whsec_not_the_stack_secret", time.Now())).
			wantError(t, http.StatusBadRequest, "invalid_signature", "")
		sendSigned(t, e.Payload, stripeevent.Sign(e.Payload, webhookSecret(t), time.Now().Add(-time.Hour))).
			wantError(t, http.StatusBadRequest, "invalid_signature", "")
		tampered := []byte(strings.Replace(string(e.Payload), `"amount":1200`, `"amount":1`, 1))
		sendSigned(t, tampered, stripeevent.Sign(e.Payload, webhookSecret(t), time.Now())).
			wantError(t, http.StatusBadRequest, "invalid_signature", "")
		if p := getPayment(t, buyer, "/api/payments?orderId="+o.ID); p.Status != "pending" {
			t.Fatalf("a refused event changed the payment: %s", p.Status)
		}
	})
	t.Run("unknown event types are acknowledged and ignored", func(t *testing.T) {
		payload := []byte(`{"id":"evt_e2eUnknownType` + fmt.Sprint(time.Now().UnixNano()) + `","object":"event","api_version":"2023-10-16","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
		var res webhookResult
		sendSigned(t, payload, stripeevent.Sign(payload, webhookSecret(t), time.Now())).wantStatus(t, http.StatusOK).decode(t, &res)
		if res.Outcome != "ignored" {
			t.Fatalf("outcome %q", res.Outcome)
		}
	})
	t.Run("malformed ids are 400", func(t *testing.T) {
		for _, r := range []request{
			{Method: "GET", Path: "/api/payments/not-an-id", Token: buyer.Token},
			{Method: "GET", Path: "/api/payments?orderId=not-an-id", Token: buyer.Token},
			{Method: "POST", Path: "/api/payments/not-an-id/refund", Token: buyer.Token},
			{Method: "POST", Path: "/api/payments/not-an-id/resolve", Token: buyer.Token, Body: map[string]string{"action": "accept"}},
			{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": "12345"}},
		} {
			do(t, r).wantError(t, http.StatusBadRequest, "validation_failed", "")
		}
	})
	t.Run("a missing orderId is 400 naming it", func(t *testing.T) {
		do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{}}).
			wantError(t, http.StatusBadRequest, "validation_failed", "orderId")
		do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token}).
			wantError(t, http.StatusBadRequest, "validation_failed", "orderId")
		do(t, request{Method: "GET", Path: "/api/payments", Token: buyer.Token}).
			wantError(t, http.StatusBadRequest, "validation_failed", "orderId")
		do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]any{"orderId": o.ID, "tip": 5}}).
			wantError(t, http.StatusBadRequest, "validation_failed", "tip")
	})
	t.Run("someone else's order", func(t *testing.T) {
		do(t, request{Method: "POST", Path: "/api/payments", Token: stranger.Token, Body: map[string]string{"orderId": o.ID}}).
			wantError(t, http.StatusNotFound, "order_not_found", "")
		do(t, request{Method: "POST", Path: "/api/payments", Token: seller.Token, Body: map[string]string{"orderId": o.ID}}).
			wantError(t, http.StatusForbidden, "not_order_buyer", "")
		do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": "65f000000000000000000000"}}).
			wantError(t, http.StatusNotFound, "order_not_found", "")
	})
	t.Run("without a session", func(t *testing.T) {
		for _, r := range []request{
			{Method: "POST", Path: "/api/payments", Body: map[string]string{"orderId": o.ID}},
			{Method: "GET", Path: "/api/payments?orderId=" + o.ID},
			{Method: "POST", Path: "/api/payments/65f000000000000000000000/refund"},
			{Method: "GET", Path: "/api/payments?status=review"},
			{Method: "POST", Path: "/api/payments/65f000000000000000000000/resolve", Body: map[string]string{"action": "accept"}},
		} {
			do(t, r).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		}
	})
	t.Run("a cancelled order cannot be paid", func(t *testing.T) {
		other := createTicket(t, seller, uniqueTitle("Cancelled before paying"), 800)
		co := placeOrder(t, buyer, other.ID)
		do(t, request{Method: "DELETE", Path: "/api/orders/" + co.ID, Token: buyer.Token}).wantStatus(t, http.StatusOK)
		waitPaymentsReplica(t, co.ID, "cancelled")
		do(t, request{Method: "POST", Path: "/api/payments", Token: buyer.Token, Body: map[string]string{"orderId": co.ID}}).
			wantError(t, http.StatusConflict, "order_not_payable", "")
	})
	t.Run("a pending payment cannot be refunded", func(t *testing.T) {
		p := getPayment(t, buyer, "/api/payments?orderId="+o.ID)
		do(t, request{Method: "POST", Path: "/api/payments/" + p.ID + "/refund", Token: buyer.Token}).
			wantError(t, http.StatusConflict, "payment_not_refundable", "")
	})
}

// newPaymentFor starts (or finds) the payment of order o.
func newPaymentFor(t testing.TB, buyer user, o orderJSON) paymentJSON {
	t.Helper()
	var p paymentJSON
	resp := payOrder(t, buyer, o.ID)
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	resp.decode(t, &p)
	return p
}

func TestPayments_OpenAPIDocument(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	do(t, request{Method: "GET", Path: "/api/payments/openapi.json"}).wantStatus(t, http.StatusOK).decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	for _, path := range []string{"/api/payments", "/api/payments/{id}", "/api/payments/{id}/refund", "/api/payments/{id}/resolve", "/api/payments/webhook"} {
		if doc.Paths[path] == nil {
			t.Errorf("the document lacks %s", path)
		}
	}
}
