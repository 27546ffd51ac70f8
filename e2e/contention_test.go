package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// signUpMany signs up n users, a few at a time (nginx rate-limits
// sign-ups; do waits out its 429s).
func signUpMany(t *testing.T, prefix string, n int) []user {
	t.Helper()
	users := make([]user, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			users[i] = signUp(t, prefix)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return users
}

// attempt is one buyer's try at one ticket.
type attempt struct {
	ticket  string
	buyer   user
	status  int
	orderID string
}

// race sends every attempt at once (released together) and fills in the
// answers.
func race(t *testing.T, attempts []attempt) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &attempts[i]
			<-start
			resp := do(t, request{Method: "POST", Path: "/api/orders", Token: a.buyer.Token, Body: map[string]string{"ticketId": a.ticket}})
			a.status = resp.Status
			if resp.Status == http.StatusCreated {
				var o orderJSON
				resp.decode(t, &o)
				a.orderID = o.ID
			}
		}()
	}
	close(start)
	wg.Wait()
}

// checkOneWinner asserts that exactly one attempt at ticketID won (201),
// all others lost with 409, and that the orders database holds exactly one
// order of the ticket, active; it returns the winning order id.
func checkOneWinner(t *testing.T, ticketID string, attempts []attempt) string {
	t.Helper()
	won, lost, winner := 0, 0, ""
	for _, a := range attempts {
		if a.ticket != ticketID {
			continue
		}
		switch a.status {
		case http.StatusCreated:
			won++
			winner = a.orderID
		case http.StatusConflict:
			lost++
		default:
			t.Errorf("ticket %s: an attempt answered %d", ticketID, a.status)
		}
	}
	if won != 1 {
		t.Fatalf("ticket %s: %d × 201 and %d × 409; want exactly one winner", ticketID, won, lost)
	}
	orders := mongoDB(t, "orders").Collection("orders")
	ctx := context.Background()
	active, err := orders.CountDocuments(ctx, bson.M{"activeTicketId": ticketID})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := orders.CountDocuments(ctx, bson.M{"ticket.id": ticketID})
	if err != nil {
		t.Fatal(err)
	}
	if active != 1 || stored != 1 {
		t.Fatalf("ticket %s: %d orders stored, %d active; want exactly one of each (the losers write nothing)", ticketID, stored, active)
	}
	return winner
}

func TestContention_OneWinnerPerTicket(t *testing.T) {
	t.Parallel()
	const buyers = 50
	seller := signUp(t, "seller")
	tk := createTicket(t, seller, uniqueTitle("Contention"), 4200)
	users := signUpMany(t, "contender", buyers)
	waitReplica(t, tk.ID)

	attempts := make([]attempt, buyers)
	for i, u := range users {
		attempts[i] = attempt{ticket: tk.ID, buyer: u}
	}
	race(t, attempts)
	winner := checkOneWinner(t, tk.ID, attempts)
	t.Logf("%d concurrent buyers: 1 × 201 (order %s), %d × 409", buyers, winner, buyers-1)
	waitTicket(t, tk.ID, "reserved", winner)
}

func TestContention_OneWinnerPerTicketAcrossManyTickets(t *testing.T) {
	t.Parallel()
	const tickets, buyersPerTicket = 10, 20
	seller := signUp(t, "seller")
	users := signUpMany(t, "crowd", buyersPerTicket)
	ids := make([]string, tickets)
	for i := range ids {
		ids[i] = createTicket(t, seller, uniqueTitle(fmt.Sprintf("Crowd %d", i)), 1000).ID
	}
	waitReplica(t, ids...)

	// Every buyer tries every ticket, all 200 requests at once.
	var attempts []attempt
	for _, id := range ids {
		for _, u := range users {
			attempts = append(attempts, attempt{ticket: id, buyer: u})
		}
	}
	race(t, attempts)
	winners := map[string]string{}
	for _, id := range ids {
		winners[id] = checkOneWinner(t, id, attempts)
	}
	t.Logf("%d tickets × %d buyers = %d concurrent orders: %d × 201, %d × 409",
		tickets, buyersPerTicket, len(attempts), tickets, len(attempts)-tickets)
	for id, order := range winners {
		waitTicket(t, id, "reserved", order)
	}
}
