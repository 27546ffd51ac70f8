package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/internal/admin"
)

// The orders service end to end, with the tickets service: the journey of
// a sale, who may do what, and bad input. Contention and event delivery
// have files of their own.

// ticketJSON is a ticket as the tickets API shows it.
type ticketJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	Version  int64  `json:"version"`
	UserID   string `json:"userId"`
	OrderID  string `json:"orderId"`
	Status   string `json:"status"`
}

// orderJSON is an order as the orders API shows it.
type orderJSON struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
	UserID    string    `json:"userId"`
	PaymentID string    `json:"paymentId"`
	// CancelReason says why the system cancelled the order, if it did.
	CancelReason string `json:"cancelReason"`
	Version      int64  `json:"version"`
	Ticket       struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Price    int64  `json:"price"`
		Currency string `json:"currency"`
		UserID   string `json:"userId"`
		Version  int64  `json:"version"`
	} `json:"ticket"`
}

var titleSeq atomic.Int64

// uniqueTitle returns a ticket title (≤ 56 characters) no other test uses.
func uniqueTitle(prefix string) string {
	return fmt.Sprintf("%s %d-%d", prefix, time.Now().UnixNano()%1e12, titleSeq.Add(1))
}

// createTicket lists a ticket for sale by seller.
func createTicket(t testing.TB, seller user, title string, price int64) ticketJSON {
	t.Helper()
	var tk ticketJSON
	do(t, request{Method: "POST", Path: "/api/tickets", Token: seller.Token, Body: map[string]any{
		"title": title, "price": price, "currency": "eur",
	}}).wantStatus(t, http.StatusCreated).decode(t, &tk)
	if tk.ID == "" || tk.Status != "available" || tk.UserID != seller.ID {
		t.Fatalf("created ticket %+v", tk)
	}
	return tk
}

// getTicket reads a ticket as an admin, who sees which order holds it
// (public reads hide the order id).
func getTicket(t testing.TB, id string) ticketJSON {
	t.Helper()
	var tk ticketJSON
	do(t, request{Method: "GET", Path: "/api/tickets/" + id, Token: ticketAdmin(t).Token}).wantStatus(t, http.StatusOK).decode(t, &tk)
	return tk
}

var (
	ticketAdminOnce sync.Once
	ticketAdminUser user
	ticketAdminErr  error
)

// ticketAdmin is a member of the admin group, signed up once per test run,
// through whom the tests watch tickets: an admin sees the order holding a
// ticket, as its seller does.
func ticketAdmin(t testing.TB) user {
	t.Helper()
	ticketAdminOnce.Do(func() {
		ticketAdminUser = signUp(t, "ticket-watcher")
		admins, err := admin.New(stackEnv["TEST_KRATOS_ADMIN_URL"], stackEnv["TEST_KETO_READ_URL"], stackEnv["TEST_KETO_WRITE_URL"])
		if err != nil {
			ticketAdminErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ticketAdminErr = admins.Grant(ctx, ticketAdminUser.ID)
	})
	if ticketAdminErr != nil || ticketAdminUser.Token == "" {
		t.Fatalf("making the ticket-watching admin: %v", ticketAdminErr)
	}
	return ticketAdminUser
}

func getOrder(t testing.TB, who user, id string) orderJSON {
	t.Helper()
	var o orderJSON
	do(t, request{Method: "GET", Path: "/api/orders/" + id, Token: who.Token}).wantStatus(t, http.StatusOK).decode(t, &o)
	return o
}

// orderWhenKnown orders ticketID as buyer once the orders service has
// learnt of the ticket from its event (until then it answers 404), and
// returns the first other answer.
func orderWhenKnown(t testing.TB, buyer user, ticketID string) response {
	t.Helper()
	var resp response
	eventually(t, 10*time.Second, "the orders service never learnt of ticket "+ticketID, func() bool {
		resp = do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: map[string]string{"ticketId": ticketID}})
		return resp.Status != http.StatusNotFound
	})
	return resp
}

// placeOrder orders ticketID as buyer and expects the 201.
func placeOrder(t testing.TB, buyer user, ticketID string) orderJSON {
	t.Helper()
	var o orderJSON
	orderWhenKnown(t, buyer, ticketID).wantStatus(t, http.StatusCreated).decode(t, &o)
	return o
}

// waitTicket waits until the ticket has status, held by orderID ("" for
// none), and returns it.
func waitTicket(t testing.TB, id, status, orderID string) ticketJSON {
	t.Helper()
	var tk ticketJSON
	eventually(t, 15*time.Second, fmt.Sprintf("ticket %s never became %s (order %q)", id, status, orderID), func() bool {
		tk = getTicket(t, id)
		return tk.Status == status && tk.OrderID == orderID
	})
	return tk
}

// waitReplica waits until the orders service's copy of every ticket exists.
func waitReplica(t testing.TB, ids ...string) {
	t.Helper()
	replica := mongoDB(t, "orders").Collection("tickets")
	eventually(t, 15*time.Second, "the orders replica never held every ticket", func() bool {
		n, err := replica.CountDocuments(context.Background(), bson.M{"_id": bson.M{"$in": ids}})
		return err == nil && int(n) == len(ids)
	})
}

// availableWithTitle lists the available tickets whose title contains q.
func availableWithTitle(t testing.TB, q string) []ticketJSON {
	t.Helper()
	var page struct{ Items []ticketJSON }
	do(t, request{Method: "GET", Path: "/api/tickets?limit=100&title=" + url.QueryEscape(q)}).wantStatus(t, http.StatusOK).decode(t, &page)
	return page.Items
}

func containsTicket(list []ticketJSON, id string) bool {
	for _, tk := range list {
		if tk.ID == id {
			return true
		}
	}
	return false
}

// inAvailableList walks GET /api/tickets (newest first) until it finds id.
func inAvailableList(t testing.TB, id string) bool {
	t.Helper()
	path := "/api/tickets?limit=100"
	for range 50 {
		var page struct {
			Items []ticketJSON
			Next  *string
		}
		do(t, request{Method: "GET", Path: path}).wantStatus(t, http.StatusOK).decode(t, &page)
		if containsTicket(page.Items, id) {
			return true
		}
		if page.Next == nil {
			return false
		}
		path = "/api/tickets?limit=100&cursor=" + url.QueryEscape(*page.Next)
	}
	return false
}

func TestJourney_SellListOrderCancel(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	title := uniqueTitle("Journey Jazz Night")
	tk := createTicket(t, seller, title, 2500)

	if !inAvailableList(t, tk.ID) {
		t.Fatal("a new ticket is not in the available list")
	}
	if !containsTicket(availableWithTitle(t, strings.ToUpper(title[8:])), tk.ID) {
		t.Fatal("a new ticket is not found by a case-insensitive title search")
	}

	order := placeOrder(t, buyer, tk.ID)
	if order.Status != "created" || order.UserID != buyer.ID || order.Ticket.ID != tk.ID || order.Ticket.Price != 2500 || order.Version != 0 {
		t.Fatalf("order %+v", order)
	}
	if d := time.Until(order.ExpiresAt); d < 10*time.Minute || d > 16*time.Minute {
		t.Errorf("expiresAt %v is not about 15 minutes away", order.ExpiresAt)
	}
	waitTicket(t, tk.ID, "reserved", order.ID)
	eventually(t, 10*time.Second, "a reserved ticket is still listed as available", func() bool {
		return !containsTicket(availableWithTitle(t, title), tk.ID)
	})
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: seller.Token, Body: map[string]any{"price": 3000}}).
		wantError(t, http.StatusConflict, "", "")

	var cancelled orderJSON
	do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: buyer.Token}).wantStatus(t, http.StatusOK).decode(t, &cancelled)
	if cancelled.Status != "cancelled" || cancelled.Version != 1 {
		t.Fatalf("cancelled order %+v", cancelled)
	}
	available := waitTicket(t, tk.ID, "available", "")
	if !containsTicket(availableWithTitle(t, title), tk.ID) {
		t.Fatal("the ticket is not listed again after the cancellation")
	}
	var edited ticketJSON
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Token: seller.Token, Body: map[string]any{"price": 3000}}).
		wantStatus(t, http.StatusOK).decode(t, &edited)
	if edited.Price != 3000 || edited.Version != available.Version+1 {
		t.Fatalf("edited ticket %+v, want price 3000 at version %d", edited, available.Version+1)
	}

	var mine struct{ Items []orderJSON }
	do(t, request{Method: "GET", Path: "/api/orders", Token: buyer.Token}).wantStatus(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != order.ID || mine.Items[0].Status != "cancelled" {
		t.Fatalf("buyer's orders %+v", mine.Items)
	}
	var sold struct{ Items []orderJSON }
	do(t, request{Method: "GET", Path: "/api/orders?as=seller", Token: seller.Token}).wantStatus(t, http.StatusOK).decode(t, &sold)
	if len(sold.Items) != 1 || sold.Items[0].ID != order.ID {
		t.Fatalf("seller's orders %+v", sold.Items)
	}
}

func TestAuthorization_Matrix(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger, adminUser := signUp(t, "seller"), signUp(t, "buyer"), signUp(t, "stranger"), signUp(t, "admin")
	tk := createTicket(t, seller, uniqueTitle("Matrix"), 1000)
	order := placeOrder(t, buyer, tk.ID)
	other := createTicket(t, stranger, uniqueTitle("Matrix other"), 500)

	t.Run("anonymous writes are 401", func(t *testing.T) {
		for _, r := range []request{
			{Method: "POST", Path: "/api/tickets", Body: map[string]any{"title": "Anonymous", "price": 1}},
			{Method: "PATCH", Path: "/api/tickets/" + tk.ID, Body: map[string]any{"price": 1}},
			{Method: "POST", Path: "/api/orders", Body: map[string]string{"ticketId": other.ID}},
			{Method: "DELETE", Path: "/api/orders/" + order.ID},
			{Method: "GET", Path: "/api/orders"},
			{Method: "GET", Path: "/api/orders/" + order.ID},
		} {
			do(t, r).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		}
	})
	t.Run("a stranger cannot patch the ticket nor see or cancel the order", func(t *testing.T) {
		do(t, request{Method: "PATCH", Path: "/api/tickets/" + other.ID, Token: buyer.Token, Body: map[string]any{"price": 1}}).
			wantError(t, http.StatusForbidden, "", "")
		do(t, request{Method: "GET", Path: "/api/orders/" + order.ID, Token: stranger.Token}).wantError(t, http.StatusNotFound, "order_not_found", "")
		do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: stranger.Token}).wantError(t, http.StatusNotFound, "order_not_found", "")
	})
	t.Run("the seller sees the order on their ticket but cannot cancel it", func(t *testing.T) {
		if o := getOrder(t, seller, order.ID); o.ID != order.ID || o.UserID != buyer.ID {
			t.Fatalf("seller sees %+v", o)
		}
		do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: seller.Token}).wantError(t, http.StatusForbidden, "not_order_owner", "")
	})
	t.Run("an owner cannot order their own ticket", func(t *testing.T) {
		orderWhenKnown(t, stranger, other.ID).wantError(t, http.StatusForbidden, "own_ticket", "")
	})
	t.Run("an admin-group member may patch any ticket and view any order", func(t *testing.T) {
		admins, err := admin.New(stackEnv["TEST_KRATOS_ADMIN_URL"], stackEnv["TEST_KETO_READ_URL"], stackEnv["TEST_KETO_WRITE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		do(t, request{Method: "PATCH", Path: "/api/tickets/" + other.ID, Token: adminUser.Token, Body: map[string]any{"price": 600}}).
			wantError(t, http.StatusForbidden, "", "")
		if err := admins.Grant(ctx, adminUser.ID); err != nil {
			t.Fatal(err)
		}
		var patched ticketJSON
		do(t, request{Method: "PATCH", Path: "/api/tickets/" + other.ID, Token: adminUser.Token, Body: map[string]any{"price": 600}}).
			wantStatus(t, http.StatusOK).decode(t, &patched)
		if patched.Price != 600 || patched.UserID != stranger.ID {
			t.Fatalf("admin's patch gave %+v", patched)
		}
		getOrder(t, adminUser, order.ID)
		do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: adminUser.Token}).wantError(t, http.StatusForbidden, "not_order_owner", "")
	})
	t.Run("the buyer sees and cancels their order, twice harmlessly", func(t *testing.T) {
		getOrder(t, buyer, order.ID)
		for range 2 {
			var o orderJSON
			do(t, request{Method: "DELETE", Path: "/api/orders/" + order.ID, Token: buyer.Token}).wantStatus(t, http.StatusOK).decode(t, &o)
			if o.Status != "cancelled" || o.Version != 1 {
				t.Fatalf("cancelled order %+v", o)
			}
		}
	})
}

func TestOrders_BadInputIs400NamingTheFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "seller"), signUp(t, "buyer")
	tk := createTicket(t, seller, uniqueTitle("Bad input"), 100)
	waitReplica(t, tk.ID)
	orders := mongoDB(t, "orders").Collection("orders")
	count := func() int64 {
		n, err := orders.CountDocuments(context.Background(), bson.M{"$or": bson.A{bson.M{"userId": buyer.ID}, bson.M{"ticket.id": tk.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name  string
		req   request
		code  string
		field string
	}{
		{"malformed JSON", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":"` + tk.ID}, "malformed_json", ""},
		{"trailing data", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":"` + tk.ID + `"} {}`}, "malformed_json", ""},
		{"not an object", request{Method: "POST", Path: "/api/orders", Body: `"` + tk.ID + `"`}, "malformed_json", ""},
		{"empty body", request{Method: "POST", Path: "/api/orders", Body: ``}, "", ""},
		{"unknown field", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":"` + tk.ID + `","userId":"x"}`}, "validation_failed", "userId"},
		{"wrong type", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":5}`}, "validation_failed", "ticketId"},
		{"null ticketId", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":null}`}, "validation_failed", "ticketId"},
		{"missing ticketId", request{Method: "POST", Path: "/api/orders", Body: `{}`}, "validation_failed", "ticketId"},
		{"malformed ticketId", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":"` + tk.ID[:23] + `g"}`}, "validation_failed", "ticketId"},
		{"regex in ticketId", request{Method: "POST", Path: "/api/orders", Body: `{"ticketId":".*"}`}, "validation_failed", "ticketId"},
		{"malformed id to get", request{Method: "GET", Path: "/api/orders/not-an-id"}, "validation_failed", "id"},
		{"malformed id to cancel", request{Method: "DELETE", Path: "/api/orders/" + tk.ID + "0"}, "validation_failed", "id"},
		{"limit 0", request{Method: "GET", Path: "/api/orders?limit=0"}, "validation_failed", "limit"},
		{"limit 101", request{Method: "GET", Path: "/api/orders?limit=101"}, "validation_failed", "limit"},
		{"limit -1", request{Method: "GET", Path: "/api/orders?limit=-1"}, "validation_failed", "limit"},
		{"limit not an integer", request{Method: "GET", Path: "/api/orders?limit=1.5"}, "validation_failed", "limit"},
		{"bad cursor", request{Method: "GET", Path: "/api/orders?cursor=bm90LWEtY3Vyc29y"}, "validation_failed", "cursor"},
		{"bad as", request{Method: "GET", Path: "/api/orders?as=admin"}, "validation_failed", "as"},
	}
	for _, tt := range tests {
		tt.req.Token = buyer.Token
		do(t, tt.req).wantError(t, http.StatusBadRequest, tt.code, tt.field)
	}
	do(t, request{Method: "POST", Path: "/api/orders", Token: buyer.Token, Body: `ticketId=` + tk.ID,
		Headers: map[string]string{"Content-Type": "text/plain"}}).wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type", "")

	// A cursor is valid only for the list and the caller it was issued to.
	for range 3 {
		other := createTicket(t, seller, uniqueTitle("Bad input page"), 100)
		placeOrder(t, buyer, other.ID)
	}
	var page struct {
		Items []orderJSON
		Next  *string
	}
	do(t, request{Method: "GET", Path: "/api/orders?limit=2", Token: buyer.Token}).wantStatus(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 2 || page.Next == nil {
		t.Fatalf("first page of 3 orders: %+v", page)
	}
	do(t, request{Method: "GET", Path: "/api/orders?as=seller&limit=2&cursor=" + *page.Next, Token: buyer.Token}).wantError(t, http.StatusBadRequest, "validation_failed", "cursor")
	do(t, request{Method: "GET", Path: "/api/orders?limit=2&cursor=" + *page.Next, Token: seller.Token}).wantError(t, http.StatusBadRequest, "validation_failed", "cursor")
	do(t, request{Method: "GET", Path: "/api/orders?limit=2&cursor=" + *page.Next + "x", Token: buyer.Token}).wantError(t, http.StatusBadRequest, "validation_failed", "cursor")
	var rest struct {
		Items []orderJSON
		Next  *string
	}
	do(t, request{Method: "GET", Path: "/api/orders?limit=2&cursor=" + *page.Next, Token: buyer.Token}).wantStatus(t, http.StatusOK).decode(t, &rest)
	if len(rest.Items) != 1 || rest.Next != nil || rest.Items[0].ID >= page.Items[1].ID {
		t.Fatalf("second page %+v after %+v", rest, page.Items)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d orders stored, want only the 3 valid ones", n)
	}
}
