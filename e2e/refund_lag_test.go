package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// TestFaults_RefundBeforeTheReservationNeverSellsTheTicket pays two orders
// while the tickets service is down (their reservations lag), so that each
// payment is kept on its order until the reservation is confirmed, and
// then tries to take the money back before that: the buyer's own refund is
// refused (409 order_not_complete: cancelling the order is how a buyer
// gives up a ticket not yet theirs), and Stripe's charge.refunded (the
// merchant's dashboard, a bank) makes orders forget the kept payment.
// When tickets is back and reserves both tickets, neither order completes
// with a refunded payment: the ticket is never sold to a buyer who has the
// money back.
func TestFaults_RefundBeforeTheReservationNeverSellsTheTicket(t *testing.T) {
	seller, buyer := signUp(t, "lag-seller"), signUp(t, "lag-buyer")
	viaAPI := createTicket(t, seller, uniqueTitle("Lag refund API"), 2500)
	viaStripe := createTicket(t, seller, uniqueTitle("Lag refund Stripe"), 2600)
	waitReplica(t, viaAPI.ID, viaStripe.ID)

	restore := outage(t, "tickets")
	orders := mongoDB(t, "orders").Collection("orders")
	kept := func(orderID, paymentID string) func() bool {
		return func() bool {
			n, err := orders.CountDocuments(context.Background(), bson.M{"_id": orderID, "pendingPaymentId": paymentID})
			return err == nil && n == 1
		}
	}
	paid := map[string]paymentJSON{}
	placed := map[string]orderJSON{}
	for _, tk := range []ticketJSON{viaAPI, viaStripe} {
		o := placeOrder(t, buyer, tk.ID)
		p := pay(t, buyer, o)
		deliverOutcome(t, stripeEvent(t, "succeeded", p.ID), "applied")
		eventually(t, 15*time.Second, "orders never kept the payment that came before the reservation", kept(o.ID, p.ID))
		placed[tk.ID], paid[tk.ID] = o, p
	}

	// The buyer's refund of a payment whose order is not complete yet.
	do(t, request{Method: "POST", Path: "/api/payments/" + paid[viaAPI.ID].ID + "/refund", Token: buyer.Token}).
		wantError(t, http.StatusConflict, "order_not_complete", "")
	// Stripe's whole refund of the other one: applied, and orders forgets it.
	deliverOutcome(t, stripeEvent(t, "refunded", paid[viaStripe.ID].ID), "applied")
	o := placed[viaStripe.ID]
	eventually(t, 15*time.Second, "orders still keeps a payment Stripe refunded", func() bool {
		n, err := orders.CountDocuments(context.Background(), bson.M{"_id": o.ID, "pendingPaymentId": bson.M{"$exists": true}})
		return err == nil && n == 0
	})

	restore()
	waitTicket(t, viaStripe.ID, "reserved", o.ID)
	eventually(t, 15*time.Second, "orders never heard that the ticket was reserved", func() bool {
		n, err := orders.CountDocuments(context.Background(), bson.M{"_id": o.ID, "reserved": true})
		return err == nil && n == 1
	})
	if got := getOrder(t, buyer, o.ID); got.Status != "created" {
		t.Fatalf("after Stripe refunded its payment and the reservation came, the order is %q, want created", got.Status)
	}
	if got := getTicket(t, viaStripe.ID); got.Status != "reserved" {
		t.Fatalf("the ticket whose payment was refunded is %q, want reserved (held, not sold)", got.Status)
	}
	waitPayment(t, buyer, paid[viaStripe.ID].ID, "refunded")

	// The order whose refund was refused completes with its payment; its
	// buyer may refund it now.
	waitOrderStatus(t, buyer, placed[viaAPI.ID].ID, "complete")
	waitPaymentsReplica(t, placed[viaAPI.ID].ID, "complete")
	do(t, request{Method: "POST", Path: "/api/payments/" + paid[viaAPI.ID].ID + "/refund", Token: buyer.Token}).wantStatus(t, http.StatusOK)
	waitOrderStatus(t, buyer, placed[viaAPI.ID].ID, "refunded")
}
