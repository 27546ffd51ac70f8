package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// priceRaceRuns is how many times the seller's price change races a
	// purchase.
	priceRaceRuns = 200
	// priceRaceWorkers run the races side by side, each with its own
	// buyer (a buyer's holds are limited).
	priceRaceWorkers = 8
	// The ticket's price when listed, and the seller's new price.
	priceBefore, priceAfter = 1000, 1500
)

// priceRun is one race: what each side was answered and how it ended.
type priceRun struct {
	patch     string // PATCH's status and error code
	order     string // POST /api/orders' status and error code
	pay       string // POST /api/payments' status and error code ("" when no order)
	paid      int64  // the payment's amount, when a payment was made
	end       string // the order's final status
	soldAt    int64  // the ticket's price once sold to the order
	violation string // why the run broke price integrity, if it did
}

// TestPriceRace_TicketNeverSoldAtUnpaidPrice races a seller's price change
// (PATCH) against a buyer's order, then pays whatever order was created
// (Stripe's signed webhook), priceRaceRuns times. In every run a ticket
// sold to the order must show the price the buyer paid, an order must
// never complete at a price the ticket no longer had, and an order the
// tickets service refused ends cancelled with any successful payment
// refunded.
func TestPriceRace_TicketNeverSoldAtUnpaidPrice(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "race-seller")
	buyers := signUpMany(t, "race-buyer", priceRaceWorkers)
	runs := make([]priceRun, priceRaceRuns)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range priceRaceWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				runs[i] = raceOnce(t, seller, buyers[w])
			}
		}()
	}
	for i := range runs {
		next <- i
	}
	close(next)
	wg.Wait()

	tally := map[string]int{}
	var violations []string
	for i, r := range runs {
		tally[fmt.Sprintf("patch %s, order %s, pay %s → %s", r.patch, r.order, r.pay, r.end)]++
		if r.violation != "" {
			violations = append(violations, fmt.Sprintf("run %d: %s", i, r.violation))
		}
	}
	lines := make([]string, 0, len(tally))
	for k, n := range tally {
		lines = append(lines, fmt.Sprintf("%4d × %s", n, k))
	}
	sort.Strings(lines)
	t.Logf("price race outcomes over %d runs:\n%s", len(runs), strings.Join(lines, "\n"))
	t.Logf("price race: %d of %d runs broke price integrity (%.1f%%)", len(violations), len(runs), 100*float64(len(violations))/float64(len(runs)))
	if len(violations) > 0 {
		t.Errorf("%d runs broke price integrity; first ones:\n%s", len(violations), strings.Join(violations[:min(len(violations), 10)], "\n"))
	}
}

// raceOnce lists a ticket, waits until it is orderable, then sends the
// seller's PATCH and the buyer's POST at once, pays the order if one was
// created, and checks how the sale ended.
func raceOnce(t *testing.T, seller, buyer user) (r priceRun) {
	tk := createTicket(t, seller, uniqueTitle("Race"), priceBefore)
	waitReplica(t, tk.ID)

	var patchResp, orderResp response
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		<-start
		patchResp = do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: seller.Token, Body: map[string]any{"price": priceAfter}})
	}()
	go func() {
		defer wg.Done()
		<-start
		orderResp = do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": tk.ID}})
	}()
	close(start)
	wg.Wait()
	r.patch, r.order = answer(patchResp), answer(orderResp)
	switch {
	case patchResp.Status == http.StatusConflict && errorCode(patchResp) != "ticket_locked",
		patchResp.Status != http.StatusOK && patchResp.Status != http.StatusConflict:
		t.Errorf("PATCH answered %d %s; want 200, or 409 ticket_locked", patchResp.Status, patchResp.Body)
		return r
	case orderResp.Status != http.StatusCreated:
		t.Errorf("POST /api/orders answered %d %s; want 201", orderResp.Status, orderResp.Body)
		return r
	}
	var o orderJSON
	orderResp.decode(t, &o)

	payResp := payOrder(t, buyer, o.ID)
	r.pay = answer(payResp)
	var p paymentJSON
	switch payResp.Status {
	case http.StatusCreated:
		payResp.decode(t, &p)
		r.paid = p.Amount
		deliver(t, stripeEvent(t, "succeeded", p.ID)).wantStatus(t, http.StatusOK)
	case http.StatusConflict: // the order was already refused and cancelled
	default:
		t.Errorf("POST /api/payments answered %d %s", payResp.Status, payResp.Body)
		return r
	}

	eventually(t, 20*time.Second, "order "+o.ID+" never ended complete or cancelled", func() bool {
		o = getOrder(t, buyer, o.ID)
		return o.Status == "complete" || (o.Status == "cancelled" && p.ID == "") ||
			(o.Status == "cancelled" && getPayment(t, buyer, "/api/payments/"+p.ID).Status == "refunded")
	})
	r.end = o.Status
	if o.Status == "cancelled" {
		switch {
		case patchResp.Status != http.StatusOK:
			r.violation = "the price change lost (409) yet the order was cancelled"
		case o.CancelReason != "price_changed":
			r.violation = fmt.Sprintf("order %s cancelled with reason %q, want price_changed", o.ID, o.CancelReason)
		}
		if got := getTicket(t, tk.ID); got.Status == "sold" && got.OrderID == o.ID {
			r.violation = fmt.Sprintf("order %s is cancelled but the ticket is sold to it", o.ID)
		}
		return r
	}
	sold := waitTicket(t, tk.ID, "sold", o.ID)
	r.soldAt = sold.Price
	switch {
	case sold.Price != r.paid || sold.Currency != p.Currency:
		r.violation = fmt.Sprintf("ticket %s sold at %d %s, the buyer paid %d %s (PATCH %s)", tk.ID, sold.Price, sold.Currency, r.paid, p.Currency, r.patch)
	case o.Ticket.Price != sold.Price:
		r.violation = fmt.Sprintf("order %s completed at %d, the ticket sold at %d", o.ID, o.Ticket.Price, sold.Price)
	}
	return r
}

// answer is a response's status and, for an error, its code.
func answer(resp response) string {
	if code := errorCode(resp); code != "" {
		return fmt.Sprintf("%d %s", resp.Status, code)
	}
	return fmt.Sprint(resp.Status)
}

// errorCode is the code of an error answer in the project's shape, else "".
func errorCode(resp response) string {
	if resp.Status < 400 {
		return ""
	}
	var e errorBody
	if json.Unmarshal(resp.Body, &e) != nil {
		return "not JSON"
	}
	return e.Error.Code
}
