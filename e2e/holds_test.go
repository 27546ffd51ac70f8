package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/pkg/events"
)

// maxHolds is ORDER_MAX_HOLDS_PER_BUYER on the test stack (its default).
const maxHolds = 5

// TestOrders_OneBuyerHoldsAtMostFiveOrders sends one buyer's orders for 20
// different tickets at once: exactly five are created and the others are
// refused with 409 too_many_holds. Ending a hold (cancelling, or paying so
// that the order completes) lets the buyer order again.
func TestOrders_OneBuyerHoldsAtMostFiveOrders(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "hoard-seller"), signUp(t, "hoard-buyer")
	const tries = 20
	tickets := make([]ticketJSON, tries+2)
	ids := make([]string, len(tickets))
	for i := range tickets {
		tickets[i] = createTicket(t, seller, uniqueTitle(fmt.Sprintf("Hoard %d", i)), 800)
		ids[i] = tickets[i].ID
	}
	waitReplica(t, ids...)

	attempts := make([]attempt, tries)
	for i := range attempts {
		attempts[i] = attempt{ticket: ids[i], buyer: buyer}
	}
	codes := make([]string, tries)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp := do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": attempts[i].ticket}})
			attempts[i].status, codes[i] = resp.Status, answer(resp)
			if resp.Status == http.StatusCreated {
				var o orderJSON
				resp.decode(t, &o)
				attempts[i].orderID = o.ID
			}
		}()
	}
	close(start)
	wg.Wait()
	tally := map[string]int{}
	var created []string
	for i, a := range attempts {
		tally[codes[i]]++
		if a.status == http.StatusCreated {
			created = append(created, a.orderID)
		}
	}
	if tally["201"] != maxHolds || tally["409 too_many_holds"] != tries-maxHolds {
		t.Fatalf("%d concurrent orders of one buyer were answered %v; want %d × 201 and %d × 409 too_many_holds", tries, tally, maxHolds, tries-maxHolds)
	}
	active, err := mongoDB(t, "orders").Collection("orders").CountDocuments(context.Background(), bson.M{"userId": buyer.ID, "status": "created"})
	if err != nil || active != maxHolds {
		t.Fatalf("the orders database holds %d created orders of the buyer (%v), want %d", active, err, maxHolds)
	}

	// Cancelling one hold frees a slot, and only one.
	do(t, request{Method: "DELETE", Path: "/api/orders/" + created[0], Token: buyer.Token}).wantStatus(t, http.StatusOK)
	placeOrder(t, buyer, ids[tries])
	do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": ids[tries+1]}}).
		wantError(t, http.StatusConflict, "too_many_holds", "")

	// Completing one (paid through Stripe) frees a slot too.
	paid := getOrder(t, buyer, created[1])
	p := pay(t, buyer, paid)
	deliver(t, stripeEvent(t, "succeeded", p.ID)).wantStatus(t, http.StatusOK)
	waitOrder(t, buyer, paid.ID, "complete", 1)
	placeOrder(t, buyer, ids[tries+1])
}

// TestOrders_HoldSlotFreedWhenTheHoldWindowEnds fills the buyer's holds
// with a short hold window: once they expire, the buyer may order again.
func TestOrders_HoldSlotFreedWhenTheHoldWindowEnds(t *testing.T) {
	shortHoldWindow(t, 3*time.Second)
	seller, buyer := signUp(t, "expiry-hoard-seller"), signUp(t, "expiry-hoard-buyer")
	ids := make([]string, maxHolds+1)
	for i := range ids {
		ids[i] = createTicket(t, seller, uniqueTitle(fmt.Sprintf("Expiring hoard %d", i)), 900).ID
	}
	waitReplica(t, ids...)
	var held []orderJSON
	for _, id := range ids[:maxHolds] {
		held = append(held, placeOrder(t, buyer, id))
	}
	do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": ids[maxHolds]}}).
		wantError(t, http.StatusConflict, "too_many_holds", "")
	waitOrder(t, buyer, held[0].ID, "cancelled", 1)
	eventually(t, 15*time.Second, "no slot was freed by the expired holds", func() bool {
		resp := do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": ids[maxHolds]}})
		if resp.Status != http.StatusCreated && errorCode(resp) != "too_many_holds" {
			t.Fatalf("ordering after the holds expired: %d %s", resp.Status, resp.Body)
		}
		return resp.Status == http.StatusCreated
	})
}

// reholdsPerBuyer is how many times one buyer may hold one ticket at once
// (ORDER_TICKET_RATE's LIMIT on the test stack, its default).
const reholdsPerBuyer = 2

// maxSeenOrders is how many orders a ticket remembers (tickets/README.md).
const maxSeenOrders = 16

// TestTickets_OrderBookkeepingStaysBoundedOverManyCycles orders and
// cancels one ticket many times: the ticket's record of the orders it has
// seen stays within its bound, and the redelivered events of the first,
// long-forgotten orders change nothing.
func TestTickets_OrderBookkeepingStaysBoundedOverManyCycles(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "cycle-seller")
	tk := createTicket(t, seller, uniqueTitle("Cycled"), 600)
	const cycles = 3 * maxSeenOrders
	// One buyer holds one ticket at most reholdsPerBuyer times at once
	// (ORDER_TICKET_RATE): the cycles take turns among buyers.
	buyers := signUpMany(t, "cycle-buyer", cycles/reholdsPerBuyer+1)
	var first []orderJSON
	for i := range cycles {
		buyer := buyers[i/reholdsPerBuyer]
		o := placeOrder(t, buyer, tk.ID)
		waitTicket(t, tk.ID, "reserved", o.ID)
		do(t, request{Method: "DELETE", Path: "/api/orders/" + o.ID, Token: buyer.Token}).wantStatus(t, http.StatusOK)
		waitTicket(t, tk.ID, "available", "")
		if i < 3 {
			first = append(first, o)
		}
	}
	var doc struct {
		Seen map[string]int64 `bson:"seenOrders"`
	}
	tickets := mongoDB(t, "tickets").Collection("tickets")
	if err := tickets.FindOne(context.Background(), bson.M{"_id": tk.ID}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Seen) > maxSeenOrders {
		t.Fatalf("after %d order/cancel cycles the ticket remembers %d orders, want at most %d", cycles, len(doc.Seen), maxSeenOrders)
	}

	// The first orders' events again, as a broker redelivers them: the
	// ticket stays available at its version.
	before := getTicket(t, tk.ID)
	for _, o := range first {
		snapshot := tk
		snapshot.Version = o.Ticket.Version
		publish(t,
			craftedOrder(t, events.OrderCreated, o.ID, 0, "created", snapshot),
			craftedOrder(t, events.OrderCompleted, o.ID, 1, "complete", snapshot))
	}
	// A fresh order after the redeliveries: once it holds the ticket, every
	// earlier event has been consumed (one queue, in order).
	last := placeOrder(t, buyers[len(buyers)-1], tk.ID)
	got := waitTicket(t, tk.ID, "reserved", last.ID)
	if got.Version != before.Version+1 {
		t.Fatalf("the ticket went from version %d to %d; the redelivered events changed it", before.Version, got.Version)
	}
}

// TestOrders_CreationIsRateLimitedPerBuyer sends one buyer's order requests
// all at once, more than ORDER_CREATE_RATE admits in a burst (30 on the
// test stack): those beyond it get 429 rate_limited with Retry-After, in the
// project's JSON error shape; the rest reach the use case (an unknown
// ticket: 404). Another buyer is not slowed down by this one.
func TestOrders_CreationIsRateLimitedPerBuyer(t *testing.T) {
	t.Parallel()
	buyer, other := signUp(t, "eager-buyer"), signUp(t, "calm-buyer")
	const tries, burst = 90, 30
	answers := make([]response, tries)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = doOnce(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": newObjectID()}})
		}()
	}
	close(start)
	wg.Wait()
	tally := map[string]int{}
	for _, resp := range answers {
		tally[answer(resp)]++
		if resp.Status == http.StatusTooManyRequests {
			resp.wantError(t, http.StatusTooManyRequests, "rate_limited", "")
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("a 429 without a Retry-After of at least one second: %q", resp.Header.Get("Retry-After"))
			}
		}
	}
	if tally["429 rate_limited"] == 0 || tally["404 ticket_not_found"] < burst || tally["429 rate_limited"]+tally["404 ticket_not_found"] != tries {
		t.Fatalf("%d order requests of one buyer at once were answered %v; want at least %d × 404 ticket_not_found (the burst) and the rest 429 rate_limited", tries, tally, burst)
	}
	doOnce(t, request{Method: "POST", Path: "/api/orders", Token: other.Token, Body: map[string]string{"ticketId": newObjectID()}}).
		wantError(t, http.StatusNotFound, "ticket_not_found", "")
}

// TestOrders_OneBuyerReholdsATicketAtMostTwiceAnHour cancels and re-orders
// one ticket at once, as a buyer who wants to keep it from others without
// paying would: the first reholdsPerBuyer holds are admitted (a mistake and a retry),
// the third gets 429 rate_limited with a Retry-After of most of
// ORDER_TICKET_RATE's period (2/1h: one more every 30 minutes), while
// another buyer may order that ticket and the first buyer another one.
func TestOrders_OneBuyerReholdsATicketAtMostTwiceAnHour(t *testing.T) {
	t.Parallel()
	seller, hoarder, other := signUp(t, "rehold-seller"), signUp(t, "rehold-buyer"), signUp(t, "rehold-other")
	tk := createTicket(t, seller, uniqueTitle("Re-held"), 800)
	next := createTicket(t, seller, uniqueTitle("Re-held next"), 800)
	waitReplica(t, tk.ID, next.ID)
	for range reholdsPerBuyer {
		o := placeOrder(t, hoarder, tk.ID)
		do(t, request{Method: "DELETE", Path: "/api/orders/" + o.ID, Token: hoarder.Token}).wantStatus(t, http.StatusOK)
	}
	resp := doOnce(t, request{Method: "POST", Path: "/api/orders", Token: hoarder.Token, Body: map[string]string{"ticketId": tk.ID}})
	resp.wantError(t, http.StatusTooManyRequests, "rate_limited", "")
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 60 {
		t.Fatalf("the third hold of one ticket answered Retry-After %q; want minutes (2/1h)", resp.Header.Get("Retry-After"))
	}
	if o := placeOrder(t, other, tk.ID); o.Ticket.ID != tk.ID {
		t.Fatalf("another buyer's order %+v", o)
	}
	if o := placeOrder(t, hoarder, next.ID); o.Ticket.ID != next.ID {
		t.Fatalf("the first buyer's order of another ticket %+v", o)
	}
}
