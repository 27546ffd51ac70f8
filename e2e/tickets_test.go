package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/pkg/events"
)

// The tickets service's end-to-end tests. Every helper is a method of
// ticketsAPI so that its names stay out of the way of the other services'
// tests in this package.

// ticketsAPI drives /api/tickets through nginx.
type ticketsAPI struct{}

var ticketsClient ticketsAPI

// ticketsTicketJSON is a ticket as the API answers it.
type ticketsTicketJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Price     int64     `json:"price"`
	Currency  string    `json:"currency"`
	Version   int64     `json:"version"`
	UserID    string    `json:"userId"`
	OrderID   string    `json:"orderId"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

type ticketsPageJSON struct {
	Items []ticketsTicketJSON `json:"items"`
	Next  *string             `json:"next"`
}

var ticketsSeq atomic.Int64

// uniqueTitle is a title no other test (or earlier run) uses, so that a
// search finds exactly the tickets of one test.
func (ticketsAPI) uniqueTitle(prefix string) string {
	return fmt.Sprintf("%s %x-%d", prefix, time.Now().UnixNano(), ticketsSeq.Add(1))
}

func (ticketsAPI) create(t *testing.T, seller user, title string, price int64) ticketsTicketJSON {
	t.Helper()
	var out ticketsTicketJSON
	do(t, request{Method: "POST", Path: "/api/tickets", Token: seller.Token, Body: map[string]any{"title": title, "price": price}}).
		wantStatus(t, http.StatusCreated).decode(t, &out)
	return out
}

// get reads a ticket as an admin, who sees the order holding it.
func (ticketsAPI) get(t *testing.T, id string) ticketsTicketJSON {
	t.Helper()
	var out ticketsTicketJSON
	do(t, request{Method: "GET", Path: "/api/tickets/" + id, Token: ticketAdmin(t).Token}).wantStatus(t, http.StatusOK).decode(t, &out)
	return out
}

func (ticketsAPI) list(t *testing.T, token string, query url.Values) ticketsPageJSON {
	t.Helper()
	var out ticketsPageJSON
	do(t, request{Method: "GET", Path: "/api/tickets?" + query.Encode(), Token: token}).wantStatus(t, http.StatusOK).decode(t, &out)
	return out
}

// available pages through the available list (newest first) until it
// finds id or passes where id would be: other tests list tickets too.
func (api ticketsAPI) available(t *testing.T, id string) bool {
	t.Helper()
	q := url.Values{"limit": {"100"}}
	for {
		page := api.list(t, "", q)
		for _, item := range page.Items {
			if item.ID <= id {
				return item.ID == id
			}
		}
		if page.Next == nil {
			return false
		}
		q.Set("cursor", *page.Next)
	}
}

func (ticketsAPI) ids(p ticketsPageJSON) []string {
	out := make([]string, len(p.Items))
	for i, item := range p.Items {
		out[i] = item.ID
	}
	return out
}

// count is how many tickets of seller the tickets database holds.
func (ticketsAPI) count(t *testing.T, seller string) int64 {
	t.Helper()
	n, err := mongoDB(t, "tickets").Collection("tickets").CountDocuments(context.Background(), bson.M{"userId": seller})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tuples lists Keto's relation tuples of a ticket, as "relation@subject".
func (ticketsAPI) tuples(t *testing.T, id string) []string {
	t.Helper()
	q := url.Values{"namespace": {"Ticket"}, "object": {id}}
	resp, err := httpClient.Get(stackEnv["TEST_KETO_READ_URL"] + "/relation-tuples?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Tuples []struct {
			Relation   string `json:"relation"`
			SubjectSet struct {
				Namespace string `json:"namespace"`
				Object    string `json:"object"`
				Relation  string `json:"relation"`
			} `json:"subject_set"`
		} `json:"relation_tuples"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &body) != nil {
		t.Fatalf("Keto relation-tuples: %d %s", resp.StatusCode, raw)
	}
	var out []string
	for _, tu := range body.Tuples {
		s := tu.SubjectSet.Namespace + ":" + tu.SubjectSet.Object
		if tu.SubjectSet.Relation != "" {
			s += "#" + tu.SubjectSet.Relation
		}
		out = append(out, tu.Relation+"@"+s)
	}
	slices.Sort(out)
	return out
}

func TestTickets_CreateGetListAndSearch(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "seller")
	title := ticketsClient.uniqueTitle("Jazz Night")
	created := ticketsClient.create(t, seller, "  "+title+" ", 2500)
	if created.ID == "" || created.Title != title || created.Price != 2500 || created.Currency != "eur" ||
		created.Version != 0 || created.UserID != seller.ID || created.Status != "available" || created.OrderID != "" {
		t.Fatalf("201 %+v", created)
	}
	if got := ticketsClient.get(t, created.ID); got != created {
		t.Errorf("GET = %+v, want %+v", got, created)
	}
	// Read your writes: the list and the search see it at once.
	if !ticketsClient.available(t, created.ID) {
		t.Errorf("the new ticket is not in the available list")
	}
	for _, search := range []string{title, strings.ToUpper(title), strings.ToLower(title[len("Jazz "):])} {
		page := ticketsClient.list(t, "", url.Values{"title": {search}})
		if ids := ticketsClient.ids(page); !slices.Equal(ids, []string{created.ID}) || page.Next != nil {
			t.Errorf("search %q found %v (next %v), want only %s", search, ids, page.Next, created.ID)
		}
	}
}

func TestTickets_WritesKetoTuplesBeforeAnswering201(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "tuples")
	created := ticketsClient.create(t, seller, ticketsClient.uniqueTitle("Tuples"), 100)
	want := []string{"admins@Group:admin#members", "owners@User:" + seller.ID}
	if got := ticketsClient.tuples(t, created.ID); !slices.Equal(got, want) {
		t.Errorf("tuples of Ticket:%s = %v, want %v", created.ID, got, want)
	}
	// The "grants pending" flag is cleared by the write that removes the
	// published ticket.created from the outbox (docstore.Release).
	eventually(t, 10*time.Second, "the ticket's grants flag and outbox were never cleared", func() bool {
		var doc bson.M
		if err := mongoDB(t, "tickets").Collection("tickets").FindOne(context.Background(), bson.M{"_id": created.ID}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		_, pending := doc["grantsPending"]
		_, outbox := doc["outbox"]
		return !pending && !outbox
	})
}

func TestTickets_MineListsTheCallersTicketsInPages(t *testing.T) {
	t.Parallel()
	seller, other := signUp(t, "mine"), signUp(t, "mine-other")
	var want []string
	for i := range 3 {
		want = append([]string{ticketsClient.create(t, seller, ticketsClient.uniqueTitle(fmt.Sprintf("Mine %d", i)), 100).ID}, want...)
	}
	ticketsClient.create(t, other, ticketsClient.uniqueTitle("Not mine"), 100)

	var got []string
	q := url.Values{"mine": {"true"}, "limit": {"2"}}
	for range 5 {
		page := ticketsClient.list(t, seller.Token, q)
		got = append(got, ticketsClient.ids(page)...)
		if page.Next == nil {
			break
		}
		q.Set("cursor", *page.Next)
	}
	if !slices.Equal(got, want) {
		t.Errorf("mine pages = %v, want %v (newest first)", got, want)
	}
	// The cursor of one caller's list is refused to another caller.
	first := ticketsClient.list(t, seller.Token, url.Values{"mine": {"true"}, "limit": {"1"}})
	do(t, request{Method: "GET", Path: "/api/tickets?mine=true&cursor=" + url.QueryEscape(*first.Next), Token: other.Token}).
		wantError(t, http.StatusBadRequest, "validation_failed", "cursor")
	do(t, request{Method: "GET", Path: "/api/tickets?mine=true"}).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
}

func TestTickets_PatchByOwnerStrangerAndAnonymous(t *testing.T) {
	t.Parallel()
	seller, stranger := signUp(t, "patch-owner"), signUp(t, "patch-stranger")
	created := ticketsClient.create(t, seller, ticketsClient.uniqueTitle("Patch me"), 2500)
	path := "/api/tickets/" + created.ID

	var patched ticketsTicketJSON
	do(t, request{Method: "PATCH", Path: path, Token: seller.Token, Body: map[string]any{"title": "Patched title", "price": 3000}}).
		wantStatus(t, http.StatusOK).decode(t, &patched)
	if patched.Version != 1 || patched.Title != "Patched title" || patched.Price != 3000 || patched.Currency != "eur" {
		t.Fatalf("PATCH by the owner = %+v, want version 1 with the new title and price", patched)
	}
	do(t, request{Method: "PATCH", Path: path, Token: stranger.Token, Body: map[string]any{"title": "Stolen"}}).
		wantError(t, http.StatusForbidden, "not_ticket_editor", "")
	do(t, request{Method: "PATCH", Path: path, Body: map[string]any{"title": "Anonymous"}}).
		wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	if got := ticketsClient.get(t, created.ID); got != patched {
		t.Errorf("after the refused patches: %+v, want %+v", got, patched)
	}
}

func TestTickets_RejectsBadInputOnEveryEndpointAndWritesNothing(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "bad-input")
	target := ticketsClient.create(t, seller, ticketsClient.uniqueTitle("Target"), 2500)
	ticketsClient.create(t, seller, ticketsClient.uniqueTitle("Second"), 2500)
	mine := ticketsClient.list(t, seller.Token, url.Values{"mine": {"true"}, "limit": {"1"}})
	if mine.Next == nil {
		t.Fatal("no cursor on a page of 1 of 2")
	}
	tampered := []byte(*mine.Next)
	tampered[len(tampered)/2] ^= 1
	patch := "/api/tickets/" + target.ID
	text := map[string]string{"Content-Type": "text/plain"}

	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"create: malformed JSON", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz",`}, 400, "malformed_json", ""},
		{"create: not JSON", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":1}`, Headers: text}, 415, "unsupported_media_type", ""},
		{"create: unknown field", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":1,"status":"sold"}`}, 400, "validation_failed", "status"},
		{"create: title of the wrong type", request{Method: "POST", Path: "/api/tickets", Body: `{"title":42,"price":1}`}, 400, "validation_failed", "title"},
		{"create: title too short", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"ab","price":1}`}, 400, "validation_failed", "title"},
		{"create: title too long", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"` + strings.Repeat("é", 57) + `","price":1}`}, 400, "validation_failed", "title"},
		{"create: negative price", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":-1}`}, 400, "validation_failed", "price"},
		{"create: non-integer price", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":12.5}`}, 400, "validation_failed", "price"},
		{"create: price as a string", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":"12"}`}, 400, "validation_failed", "price"},
		{"create: price missing", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night"}`}, 400, "validation_failed", "price"},
		{"create: unknown currency", request{Method: "POST", Path: "/api/tickets", Body: `{"title":"Jazz Night","price":1,"currency":"xyz"}`}, 400, "validation_failed", "currency"},
		{"get: malformed id", request{Method: "GET", Path: "/api/tickets/not-an-object-id"}, 400, "validation_failed", "id"},
		{"get: unknown id", request{Method: "GET", Path: "/api/tickets/000000000000000000000000"}, 404, "ticket_not_found", ""},
		{"patch: malformed id", request{Method: "PATCH", Path: "/api/tickets/xyz", Body: `{"title":"Jazz Night"}`}, 400, "validation_failed", "id"},
		{"patch: malformed JSON", request{Method: "PATCH", Path: patch, Body: `{"title"`}, 400, "malformed_json", ""},
		{"patch: not JSON", request{Method: "PATCH", Path: patch, Body: `{"title":"Jazz Night"}`, Headers: text}, 415, "unsupported_media_type", ""},
		{"patch: unknown field", request{Method: "PATCH", Path: patch, Body: `{"userId":"someone"}`}, 400, "validation_failed", "userId"},
		{"patch: wrong type", request{Method: "PATCH", Path: patch, Body: `{"price":"12"}`}, 400, "validation_failed", "price"},
		{"patch: title too short", request{Method: "PATCH", Path: patch, Body: `{"title":" a "}`}, 400, "validation_failed", "title"},
		{"patch: negative price", request{Method: "PATCH", Path: patch, Body: `{"price":-5}`}, 400, "validation_failed", "price"},
		{"patch: non-integer price", request{Method: "PATCH", Path: patch, Body: `{"price":1.5}`}, 400, "validation_failed", "price"},
		{"patch: unknown currency", request{Method: "PATCH", Path: patch, Body: `{"currency":"EURO"}`}, 400, "validation_failed", "currency"},
		{"patch: nothing to change", request{Method: "PATCH", Path: patch, Body: `{}`}, 400, "nothing_to_change", ""},
		{"list: limit 0", request{Method: "GET", Path: "/api/tickets?limit=0"}, 400, "validation_failed", "limit"},
		{"list: limit 101", request{Method: "GET", Path: "/api/tickets?limit=101"}, 400, "validation_failed", "limit"},
		{"list: limit abc", request{Method: "GET", Path: "/api/tickets?limit=abc"}, 400, "validation_failed", "limit"},
		{"list: tampered cursor", request{Method: "GET", Path: "/api/tickets?mine=true&cursor=" + url.QueryEscape(string(tampered))}, 400, "validation_failed", "cursor"},
		{"list: cursor of another list", request{Method: "GET", Path: "/api/tickets?cursor=" + url.QueryEscape(*mine.Next)}, 400, "validation_failed", "cursor"},
		{"list: mine=maybe", request{Method: "GET", Path: "/api/tickets?mine=maybe"}, 400, "validation_failed", "mine"},
		{"list: title search too long", request{Method: "GET", Path: "/api/tickets?title=" + strings.Repeat("x", 57)}, 400, "validation_failed", "title"},
	}
	t.Run("requests", func(t *testing.T) { // returns once every parallel case has
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.req.Token = seller.Token
				do(t, tt.req).wantError(t, tt.wantStatus, tt.wantCode, tt.wantField)
			})
		}
	})
	// A search full of regular-expression metacharacters is answered, not
	// a 500, and matches nothing it should not.
	for _, search := range []string{".*(", `\`, "$", "[", "(?i)", "^.*$"} {
		page := ticketsClient.list(t, seller.Token, url.Values{"title": {search}, "mine": {"true"}})
		if len(page.Items) != 0 {
			t.Errorf("search %q matched %v", search, ticketsClient.ids(page))
		}
	}

	if n := ticketsClient.count(t, seller.ID); n != 2 {
		t.Errorf("the tickets database holds %d tickets of the user, want the 2 created before the bad input", n)
	}
	if got := ticketsClient.get(t, target.ID); got != target {
		t.Errorf("the patch target changed: %+v, want %+v", got, target)
	}
}

func TestTickets_OpenAPIDocument(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	do(t, request{Method: "GET", Path: "/api/tickets/openapi.json"}).wantStatus(t, http.StatusOK).decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	for path, method := range map[string]string{"/api/tickets": "post", "/api/tickets/{id}": "patch", "/api/tickets/openapi.json": "get"} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("OpenAPI document lacks %s %s", method, path)
		}
	}
}

// ticketsOrderPublisher publishes order events to the broker as the orders
// service would, for the tickets consumer to react to.
type ticketsOrderPublisher struct {
	pub *events.Publisher
}

func (ticketsAPI) ticketsOrderPublisher(t *testing.T) ticketsOrderPublisher {
	t.Helper()
	conn := events.NewConnection(stackEnv["TEST_RABBITMQ_URL"], slog.New(slog.NewJSONHandler(io.Discard, nil)))
	pub := events.NewPublisher(conn)
	t.Cleanup(func() {
		pub.Close()
		_ = conn.Close()
	})
	return ticketsOrderPublisher{pub: pub}
}

// event builds an order event for ticket; publish it with send.
func (ticketsOrderPublisher) event(t *testing.T, name events.Name, ticket ticketsTicketJSON, buyer user, orderID, status string, version int64) events.Envelope {
	t.Helper()
	e, err := events.New(name, events.Order{
		ID: orderID, UserID: buyer.ID, Status: status, ExpiresAt: time.Now().Add(15 * time.Minute).UTC(), Version: version,
		Ticket: events.OrderTicket{ID: ticket.ID, Title: ticket.Title, Price: ticket.Price, Currency: ticket.Currency, UserID: ticket.UserID, Version: ticket.Version},
	}, events.Meta{CorrelationID: "e2e-" + orderID})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (p ticketsOrderPublisher) send(t *testing.T, envs ...events.Envelope) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.pub.Publish(ctx, envs...); err != nil {
		t.Fatal(err)
	}
}

// newOrderID is a fresh ObjectId-shaped order id.
func (ticketsAPI) newOrderID() string {
	return fmt.Sprintf("%016x%08x", time.Now().UnixNano(), uint32(ticketsSeq.Add(1)))
}

// TestTickets_OrderEventsReserveAndReleaseWhateverTheDelivery publishes
// order events on the real broker: a redelivered event changes nothing,
// and a cancellation that arrives before its order's creation keeps the
// creation from ever reserving the ticket.
func TestTickets_OrderEventsReserveAndReleaseWhateverTheDelivery(t *testing.T) {
	t.Parallel()
	seller, buyer := signUp(t, "events-seller"), signUp(t, "events-buyer")
	ticket := ticketsClient.create(t, seller, ticketsClient.uniqueTitle("Evented"), 2500)
	p := ticketsClient.ticketsOrderPublisher(t)
	state := func(status, orderID string, version int64) func() bool {
		return func() bool {
			got := ticketsClient.get(t, ticket.ID)
			return got.Status == status && got.OrderID == orderID && got.Version == version
		}
	}

	orderA := ticketsClient.newOrderID()
	createdA := p.event(t, events.OrderCreated, ticket, buyer, orderA, "created", 0)
	p.send(t, createdA)
	eventually(t, 10*time.Second, "order A reserves the ticket (version 1)", state("reserved", orderA, 1))
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + ticket.ID, Token: seller.Token, Body: map[string]any{"price": 1}}).
		wantError(t, http.StatusConflict, "ticket_locked", "")
	if page := ticketsClient.list(t, "", url.Values{"title": {ticket.Title}}); len(page.Items) != 0 {
		t.Errorf("a reserved ticket is still in the available list")
	}

	// The very same event again (a redelivery), then A's cancellation.
	p.send(t, createdA, p.event(t, events.OrderCancelled, ticket, buyer, orderA, "cancelled", 1))
	eventually(t, 10*time.Second, "order A's cancellation frees the ticket (version 2)", state("available", "", 2))

	// Order B's events out of order: cancelled (v1) is applied first …
	orderB := ticketsClient.newOrderID()
	p.send(t, p.event(t, events.OrderCancelled, ticket, buyer, orderB, "cancelled", 1))
	eventually(t, 10*time.Second, "order B's cancellation is recorded", func() bool {
		var doc struct {
			Seen map[string]int64 `bson:"seenOrders"`
		}
		err := mongoDB(t, "tickets").Collection("tickets").FindOne(context.Background(), bson.M{"_id": ticket.ID}).Decode(&doc)
		return err == nil && doc.Seen[orderB] == 1
	})
	// … so its late creation (v0) must not reserve: order C gets it.
	orderC := ticketsClient.newOrderID()
	p.send(t, p.event(t, events.OrderCreated, ticket, buyer, orderB, "created", 0))
	p.send(t, p.event(t, events.OrderCreated, ticket, buyer, orderC, "created", 0))
	eventually(t, 15*time.Second, "order C reserves the ticket (version 3), never B", state("reserved", orderC, 3))

	p.send(t, p.event(t, events.OrderCompleted, ticket, buyer, orderC, "complete", 1))
	eventually(t, 10*time.Second, "order C's completion sells the ticket (version 4)", state("sold", orderC, 4))
}

// TestTickets_GrantsRepairerFinishesACrashedCreate stores a ticket as a
// create request leaves it when the process dies after the insert and
// before the Keto tuples: the repairer writes them and clears the flag.
func TestTickets_GrantsRepairerFinishesACrashedCreate(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "repair")
	id := fmt.Sprintf("%08x%016x", uint32(time.Now().Unix()), uint64(time.Now().UnixNano())^uint64(ticketsSeq.Add(1)))
	title := ticketsClient.uniqueTitle("Crashed")
	_, err := mongoDB(t, "tickets").Collection("tickets").InsertOne(context.Background(), bson.M{
		"_id": id, "userId": seller.ID, "title": title, "titleLower": strings.ToLower(title),
		"price": int64(100), "currency": "eur", "status": "available", "version": int64(0),
		"createdAt": time.Now().UTC().Add(-time.Minute), "grantsPending": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ticketsClient.tuples(t, id); len(got) != 0 {
		t.Fatalf("tuples before the repair: %v", got)
	}
	want := []string{"admins@Group:admin#members", "owners@User:" + seller.ID}
	eventually(t, 30*time.Second, "the repairer writes the tuples and clears grantsPending", func() bool {
		var doc bson.M
		err := mongoDB(t, "tickets").Collection("tickets").FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc)
		_, pending := doc["grantsPending"]
		return err == nil && !pending && slices.Equal(ticketsClient.tuples(t, id), want)
	})
	do(t, request{Method: "PATCH", Path: "/api/tickets/" + id, Token: seller.Token, Body: map[string]any{"price": 200}}).
		wantStatus(t, http.StatusOK)
}
