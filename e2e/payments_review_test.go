package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/internal/admin"
	"github.com/ticketing/ticketing/internal/stripeevent"
)

// A Stripe event completes an order only if it matches its payment: the
// same PaymentIntent, amount_received at least the amount due, the same
// currency. What does not match is held for an admin (status review),
// never applied as a success; these journeys sign every event exactly as
// Stripe does.

// reviewedPayment is a payment with the record of why it is held.
type reviewedPayment struct {
	paymentJSON
	Review *struct {
		Reasons    []string `json:"reasons"`
		EventID    string   `json:"eventId"`
		Amount     int64    `json:"amount"`
		Currency   string   `json:"currency"`
		Resolution string   `json:"resolution"`
		ResolvedBy string   `json:"resolvedBy"`
	} `json:"review"`
}

// reshape rewrites the event's data.object (as Stripe could have sent it)
// and returns the event to sign.
func reshape(t testing.TB, e stripeevent.Event, change func(object map[string]any)) stripeevent.Event {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		t.Fatal(err)
	}
	change(body["data"].(map[string]any)["object"].(map[string]any))
	payload, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	e.Payload = payload
	return e
}

// metadata is the object's metadata, to rewrite.
func metadata(object map[string]any) map[string]any {
	return object["metadata"].(map[string]any)
}

// grantAdmin makes u an admin (Group:admin#members), as the admin command
// does.
func grantAdmin(t testing.TB, u user) {
	t.Helper()
	admins, err := admin.New(stackEnv["TEST_KRATOS_ADMIN_URL"], stackEnv["TEST_KETO_READ_URL"], stackEnv["TEST_KETO_WRITE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admins.Grant(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
}

func getReviewed(t testing.TB, who user, id string) reviewedPayment {
	t.Helper()
	var p reviewedPayment
	do(t, request{Method: "GET", Path: "/api/payments/" + id, Token: who.Token}).wantStatus(t, http.StatusOK).decode(t, &p)
	return p
}

// wantHeld checks that payment id is in review for reason, as the buyer
// sees it.
func wantHeld(t testing.TB, buyer user, id, reason string) reviewedPayment {
	t.Helper()
	p := getReviewed(t, buyer, id)
	if p.Status != "review" || p.Review == nil || !slices.Contains(p.Review.Reasons, reason) {
		t.Fatalf("payment %s: status %q, review %+v; want review for %s", id, p.Status, p.Review, reason)
	}
	return p
}

// reviewList is GET /api/payments?status=review as who.
func reviewList(t testing.TB, who user) []reviewedPayment {
	t.Helper()
	var page struct {
		Items []reviewedPayment `json:"items"`
		Next  *string           `json:"next"`
	}
	do(t, request{Method: "GET", Path: "/api/payments?status=review&limit=100", Token: who.Token}).
		wantStatus(t, http.StatusOK).decode(t, &page)
	return page.Items
}

func listed(list []reviewedPayment, id string) bool {
	return slices.ContainsFunc(list, func(p reviewedPayment) bool { return p.ID == id && p.Status == "review" })
}

func resolve(t testing.TB, who user, id string, body any) response {
	t.Helper()
	return do(t, request{Method: "POST", Path: "/api/payments/" + id + "/resolve", Token: who.Token, Body: body})
}

func TestWebhook_AmountBelowDueHoldsPaymentForReview(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger, operator := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger"), signUp(t, "operator")
	tk := createTicket(t, seller, uniqueTitle("Underpaid"), 2500)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)

	short := reshape(t, stripeEvent(t, "succeeded", p.ID), func(pi map[string]any) { pi["amount_received"] = 100 })
	deliverOutcome(t, short, "held_for_review")
	held := wantHeld(t, buyer, p.ID, "amount_below_due")
	if held.Review.EventID != short.ID || held.Review.Amount != 100 || held.Review.Currency != "eur" {
		t.Fatalf("review record %+v", held.Review)
	}
	// A payment in review changes only by an admin's decision (or Stripe's
	// whole refund): a later success is not applied.
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "unchanged")
	do(t, request{Method: "POST", Path: "/api/payments/" + p.ID + "/refund", Token: buyer.Token}).
		wantError(t, http.StatusConflict, "payment_in_review", "")

	// Only admins list and resolve held payments.
	do(t, request{Method: "GET", Path: "/api/payments?status=review", Token: buyer.Token}).
		wantError(t, http.StatusForbidden, "admin_required", "")
	resolve(t, buyer, p.ID, map[string]string{"action": "accept"}).wantError(t, http.StatusForbidden, "resolve_forbidden", "")
	resolve(t, stranger, p.ID, map[string]string{"action": "accept"}).wantError(t, http.StatusNotFound, "payment_not_found", "")
	grantAdmin(t, operator)
	if !listed(reviewList(t, operator), p.ID) {
		t.Fatalf("the admin's review list lacks payment %s", p.ID)
	}
	resolve(t, operator, p.ID, map[string]string{"action": "maybe"}).wantError(t, http.StatusBadRequest, "validation_failed", "action")
	resolve(t, operator, p.ID, map[string]string{}).wantError(t, http.StatusBadRequest, "validation_failed", "action")
	resolve(t, operator, p.ID, map[string]string{"action": "accept", "note": "x"}).wantError(t, http.StatusBadRequest, "validation_failed", "note")
	do(t, request{Method: "GET", Path: "/api/payments?status=sideways", Token: operator.Token}).
		wantError(t, http.StatusBadRequest, "validation_failed", "status")
	do(t, request{Method: "GET", Path: "/api/payments?status=review&limit=0", Token: operator.Token}).
		wantError(t, http.StatusBadRequest, "validation_failed", "limit")
	do(t, request{Method: "GET", Path: "/api/payments?status=review&cursor=forged", Token: operator.Token}).
		wantError(t, http.StatusBadRequest, "validation_failed", "cursor")

	// The order never completed: still held by the buyer's order.
	if got := getOrder(t, buyer, o.ID); got.Status != "created" || got.PaymentID != "" {
		t.Fatalf("order %+v after a short payment, want created", got)
	}
	waitTicket(t, tk.ID, "reserved", o.ID)

	// The admin gives the money back.
	var refunded reviewedPayment
	resolve(t, operator, p.ID, map[string]string{"action": "refund"}).wantStatus(t, http.StatusOK).decode(t, &refunded)
	if refunded.Status != "refunded" || refunded.Review == nil || refunded.Review.Resolution != "refund" || refunded.Review.ResolvedBy != operator.ID {
		t.Fatalf("resolve refund answered %+v (review %+v)", refunded, refunded.Review)
	}
	resolve(t, operator, p.ID, map[string]string{"action": "refund"}).wantError(t, http.StatusConflict, "payment_not_in_review", "")
	if listed(reviewList(t, operator), p.ID) {
		t.Fatalf("payment %s still listed for review after its refund", p.ID)
	}
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("order %s after the refund of a short payment, want created", got.Status)
	}
}

func TestWebhook_WrongCurrencyHeldThenAcceptedCompletesTheOrder(t *testing.T) {
	t.Parallel()
	seller, buyer, operator := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "operator")
	tk := createTicket(t, seller, uniqueTitle("Wrong currency"), 1800)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)

	usd := reshape(t, stripeEvent(t, "succeeded", p.ID), func(pi map[string]any) { pi["currency"] = "usd" })
	deliverOutcome(t, usd, "held_for_review")
	wantHeld(t, buyer, p.ID, "currency_mismatch")
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("order %s after a payment in another currency, want created", got.Status)
	}

	grantAdmin(t, operator)
	var accepted reviewedPayment
	resolve(t, operator, p.ID, map[string]string{"action": "accept"}).wantStatus(t, http.StatusOK).decode(t, &accepted)
	if accepted.Status != "succeeded" || accepted.Review == nil || accepted.Review.Resolution != "accept" {
		t.Fatalf("resolve accept answered %+v (review %+v)", accepted, accepted.Review)
	}
	waitOrderStatus(t, buyer, o.ID, "complete")
	waitTicket(t, tk.ID, "sold", o.ID)
}

func TestWebhook_CurrencyInUpperCaseIsTheSameCurrency(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Upper case currency"), 1300)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	deliverOutcome(t, reshape(t, stripeEvent(t, "succeeded", p.ID), func(pi map[string]any) { pi["currency"] = "EUR" }), "applied")
	waitOrderStatus(t, buyer, o.ID, "complete")
}

func TestWebhook_MetadataNamingAnotherOrderIsHeld(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	cheap := placeOrder(t, buyer, createTicket(t, seller, uniqueTitle("Cheap seat"), 500).ID)
	dear := placeOrder(t, buyer, createTicket(t, seller, uniqueTitle("Dear seat"), 9000).ID)
	p := pay(t, buyer, cheap)
	pay(t, buyer, dear)

	// The cheap order's PaymentIntent, claiming to pay the dear one.
	e := reshape(t, stripeEvent(t, "succeeded", p.ID), func(pi map[string]any) { metadata(pi)["orderId"] = dear.ID })
	deliverOutcome(t, e, "held_for_review")
	wantHeld(t, buyer, p.ID, "order_mismatch")
	for _, id := range []string{cheap.ID, dear.ID} {
		if got := getOrder(t, buyer, id); got.Status != "created" {
			t.Fatalf("order %s is %s, want created", id, got.Status)
		}
	}
	if dp := getPayment(t, buyer, "/api/payments?orderId="+dear.ID); dp.Status != "pending" {
		t.Fatalf("the dear order's payment is %s, want pending", dp.Status)
	}
}

func TestWebhook_ForeignPaymentIntentIsNotApplied(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Foreign intent"), 2100)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	foreign := "pi_foreign" + newObjectID()

	for _, word := range []string{"succeeded", "failed"} {
		e := reshape(t, stripeEvent(t, word, p.ID), func(pi map[string]any) { pi["id"] = foreign })
		deliverOutcome(t, e, "intent_mismatch")
	}
	if got := getPayment(t, buyer, "/api/payments/"+p.ID); got.Status != "pending" || got.StripeID != p.StripeID || got.Version != p.Version {
		t.Fatalf("payment %+v after events of another PaymentIntent, want it untouched (%+v)", got, p)
	}

	// Paid, then a refund of another PaymentIntent's charge.
	deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
	waitOrderStatus(t, buyer, o.ID, "complete")
	e := reshape(t, stripeEvent(t, "refunded", p.ID), func(ch map[string]any) { ch["payment_intent"] = foreign })
	deliverOutcome(t, e, "intent_mismatch")
	if got := getPayment(t, buyer, "/api/payments/"+p.ID); got.Status != "succeeded" {
		t.Fatalf("payment %s after another PaymentIntent's refund, want succeeded", got.Status)
	}
	if got := getOrder(t, buyer, o.ID); got.Status != "complete" {
		t.Fatalf("order %s after another PaymentIntent's refund, want complete", got.Status)
	}
}

func TestWebhook_PartialRefundHoldsPaymentForReview(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk, o, p := paidOrder(t, seller, buyer, 3000)

	partial := reshape(t, stripeEvent(t, "refunded", p.ID), func(ch map[string]any) {
		ch["amount_refunded"], ch["refunded"] = 1000, false
	})
	deliverOutcome(t, partial, "held_for_review")
	wantHeld(t, buyer, p.ID, "partial_refund")
	if got := getOrder(t, buyer, o.ID); got.Status != "complete" {
		t.Fatalf("order %s after a partial refund, want complete", got.Status)
	}
	// The rest is refunded in Stripe: the whole refund applies.
	deliverOutcome(t, stripeEvent(t, "refunded", p.ID), "applied")
	waitPayment(t, buyer, p.ID, "refunded")
	waitOrderStatus(t, buyer, o.ID, "refunded")
	waitTicket(t, tk.ID, "available", "")
}

func TestWebhook_EventNeverAttachesAnIntentToAPaymentWithout(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	payments := mongoDB(t, "payments").Collection("payments")
	ctx := context.Background()

	t.Run("free order", func(t *testing.T) {
		tk := createTicket(t, seller, uniqueTitle("Free with intent"), 0)
		o := placeOrder(t, buyer, tk.ID)
		var free paymentJSON
		payOrder(t, buyer, o.ID).wantStatus(t, http.StatusCreated).decode(t, &free)
		waitOrderStatus(t, buyer, o.ID, "complete")
		stored, err := stripeevent.Find(ctx, mongoDB(t, "payments"), free.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored.StripeID = "pi_attached" + newObjectID()
		for _, typ := range []stripeevent.Type{stripeevent.Refunded, stripeevent.Succeeded, stripeevent.Failed} {
			e, err := stripeevent.New(typ, stored, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			deliverOutcome(t, e, "no_payment_intent")
		}
		if got := getPayment(t, buyer, "/api/payments/"+free.ID); got.Status != "succeeded" || got.StripeID != "" || got.Version != free.Version {
			t.Fatalf("free payment %+v after events carrying a PaymentIntent", got)
		}
		if got := getOrder(t, buyer, o.ID); got.Status != "complete" {
			t.Fatalf("free order %s, want complete", got.Status)
		}
	})
	t.Run("payment whose intent was never stored", func(t *testing.T) {
		tk := createTicket(t, seller, uniqueTitle("Intent never stored"), 1600)
		o := placeOrder(t, buyer, tk.ID)
		p := pay(t, buyer, o)
		stored, err := stripeevent.Find(ctx, mongoDB(t, "payments"), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Stands for a crash between Stripe's answer and the write.
		if _, err := payments.UpdateOne(ctx, bson.M{"_id": p.ID}, bson.M{"$unset": bson.M{"stripeId": "", "clientSecret": ""}}); err != nil {
			t.Fatal(err)
		}
		stored.StripeID = "pi_claimed" + newObjectID()
		e, err := stripeevent.New(stripeevent.Succeeded, stored, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		deliverOutcome(t, e, "no_payment_intent")
		if got := getPayment(t, buyer, "/api/payments/"+p.ID); got.Status != "pending" || got.StripeID != "" {
			t.Fatalf("payment %+v after an event for it without a stored PaymentIntent", got)
		}
		if got := getOrder(t, buyer, o.ID); got.Status != "created" {
			t.Fatalf("order %s, want created", got.Status)
		}
	})
}

func TestWebhook_SignatureFromTheFutureIsRefused(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Time traveller"), 1400)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	e := stripeEvent(t, "succeeded", p.ID)
	sendSigned(t, e.Payload, stripeevent.Sign(e.Payload, webhookSecret(t), time.Now().Add(10*time.Minute))).
		wantError(t, http.StatusBadRequest, "invalid_signature", "")
	if got := getPayment(t, buyer, "/api/payments/"+p.ID); got.Status != "pending" {
		t.Fatalf("payment %s after a refused event, want pending", got.Status)
	}
	// A clock a little ahead, within the tolerance, is accepted.
	sendSigned(t, e.Payload, stripeevent.Sign(e.Payload, webhookSecret(t), time.Now().Add(time.Minute))).
		wantStatus(t, http.StatusOK)
	waitOrderStatus(t, buyer, o.ID, "complete")
}

func TestPayments_AdminListsHeldPaymentsInSignedPages(t *testing.T) {
	t.Parallel()
	seller, buyer, operator := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "operator")
	var held []string
	for i := 0; i < 2; i++ {
		o := placeOrder(t, buyer, createTicket(t, seller, uniqueTitle("Held in pages"), 700).ID)
		p := pay(t, buyer, o)
		deliverOutcome(t, reshape(t, stripeEvent(t, "succeeded", p.ID), func(pi map[string]any) { pi["amount_received"] = 1 }), "held_for_review")
		held = append(held, p.ID)
	}
	grantAdmin(t, operator)

	// One item a page, newest first: follow next until both are seen.
	seen, last, cursor := map[string]bool{}, "", ""
	for page := 0; page < 50 && len(seen) < len(held); page++ {
		var body struct {
			Items []reviewedPayment `json:"items"`
			Next  *string           `json:"next"`
		}
		do(t, request{Method: "GET", Path: "/api/payments?status=review&limit=1&cursor=" + cursor, Token: operator.Token}).
			wantStatus(t, http.StatusOK).decode(t, &body)
		if len(body.Items) != 1 || body.Items[0].Status != "review" || (last != "" && body.Items[0].ID >= last) {
			t.Fatalf("page %d: %+v after %s", page, body.Items, last)
		}
		last = body.Items[0].ID
		if slices.Contains(held, last) {
			seen[last] = true
		}
		if body.Next == nil {
			break
		}
		if page == 0 {
			// A cursor is valid only for the list that issued it.
			do(t, request{Method: "GET", Path: "/api/payments?status=pending&cursor=" + *body.Next, Token: operator.Token}).
				wantError(t, http.StatusBadRequest, "validation_failed", "cursor")
		}
		cursor = *body.Next
	}
	if len(seen) != len(held) {
		t.Fatalf("the pages showed %v of the held payments %v", seen, held)
	}
	do(t, request{Method: "GET", Path: "/api/payments?status=review&orderId=" + newObjectID(), Token: operator.Token}).
		wantError(t, http.StatusBadRequest, "validation_failed", "status")
}

// TestWebhook_RefundDeliveredBeforeTheSuccessIsNotLost: Stripe does not
// promise to deliver events in order. A whole refund that arrives before
// the success it refunds must not be dropped, or the late success would
// complete an order whose money went back.
func TestWebhook_RefundDeliveredBeforeTheSuccessIsNotLost(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Refunded first"), 1900)
	o := placeOrder(t, buyer, tk.ID)
	p := pay(t, buyer, o)
	succeeded := stripeEvent(t, "succeeded", p.ID)
	refunded := stripeEvent(t, "refunded", p.ID)

	deliverOutcome(t, refunded, "applied")
	waitPayment(t, buyer, p.ID, "refunded")
	deliverOutcome(t, succeeded, "unchanged")
	if got := getPayment(t, buyer, "/api/payments/"+p.ID); got.Status != "refunded" {
		t.Fatalf("payment %s after the late success, want refunded", got.Status)
	}
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("order %s after a refunded payment's late success, want created (held until it expires)", got.Status)
	}
}
