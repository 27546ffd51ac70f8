package ports_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/app/apptest"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/orders/ports"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/session"
)

const (
	ticketID = "656565656565656565656565"
	seller   = "seller-1"
	buyer    = "buyer-1"
)

// fakeSessions authenticates a request carrying X-Test-User as that user.
type fakeSessions struct{}

func (fakeSessions) Require() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Test-User")
		if id == "" {
			httpserver.WriteError(c, apierr.Unauthenticated("no session"))
			return
		}
		c.Request = c.Request.WithContext(session.NewContext(c.Request.Context(), session.Session{Identity: session.Identity{ID: id}}))
		c.Next()
	}
}

type server struct {
	handler http.Handler
	orders  *adapters.MemoryOrderRepository
	perms   *apptest.Permissions
}

func newServer(t *testing.T) server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	orders, tickets, perms := adapters.NewMemoryOrderRepository(), adapters.NewMemoryTicketReplica(), apptest.NewPermissions()
	application := app.Application{
		CreateOrder: app.NewCreateOrderHandler(orders, tickets, perms, app.OrderLimits{Window: 15 * time.Minute, MaxHolds: testHolds}, unlimited{}, unlimited{}, logger),
		CancelOrder: app.NewCancelOrderHandler(orders, perms),
		GetOrder:    app.NewGetOrderHandler(orders, perms),
		ListOrders:  app.NewListOrdersHandler(orders),
	}
	engine := httpserver.New(logger)
	ports.NewHTTPServer(application, fakeSessions{}, pagination.NewSigner("0123456789abcdef-test")).Register(engine)
	perms.AddTicket(ticketID, seller)
	_, err := tickets.Apply(context.Background(), domain.Ticket{ID: ticketID, Title: "Concert", Price: 2500, Currency: "eur", SellerID: seller, Status: "available"})
	if err != nil {
		t.Fatal(err)
	}
	return server{handler: engine, orders: orders, perms: perms}
}

func (s server) do(method, path, user, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

type orderJSON struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
	UserID    string    `json:"userId"`
	Version   int64     `json:"version"`
	Ticket    struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Price    int64  `json:"price"`
		Currency string `json:"currency"`
		Version  int64  `json:"version"`
	} `json:"ticket"`
}

func (s server) order(t *testing.T, user string) orderJSON {
	t.Helper()
	rec := s.do("POST", "/api/orders", user, `{"ticketId":"`+ticketID+`"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var o orderJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	var body apierr.Body
	if rec.Code != status || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, status)
	}
	if code != "" && body.Error.Code != code {
		t.Errorf("code %q, want %q: %s", body.Error.Code, code, rec.Body)
	}
	if field == "" {
		return
	}
	for _, f := range body.Error.Fields {
		if f.Field == field {
			return
		}
	}
	t.Errorf("error does not name %q: %s", field, rec.Body)
}

func TestCreateOrder_AnswersTheContractShape(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	before := time.Now()
	o := s.order(t, buyer)
	if len(o.ID) != 24 || o.Status != "created" || o.UserID != buyer || o.Version != 0 {
		t.Errorf("order %+v", o)
	}
	if o.Ticket.ID != ticketID || o.Ticket.Title != "Concert" || o.Ticket.Price != 2500 || o.Ticket.Currency != "eur" {
		t.Errorf("ticket %+v", o.Ticket)
	}
	if o.ExpiresAt.Before(before.Add(15*time.Minute-time.Second)) || o.ExpiresAt.Location() != time.UTC {
		t.Errorf("expiresAt %v", o.ExpiresAt)
	}
	rec := s.do("GET", "/api/orders/"+o.ID, buyer, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"expiresAt":"`+o.ExpiresAt.Format(time.RFC3339Nano)) {
		t.Errorf("get: %d %s", rec.Code, rec.Body)
	}
}

func TestOrders_AnswerStatusesByWhoAsks(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	o := s.order(t, buyer)
	s.perms.AddAdmin("admin")
	tests := []struct {
		name, method, path, user, body string
		status                         int
		code                           string
	}{
		{"anonymous create", "POST", "/api/orders", "", `{"ticketId":"` + ticketID + `"}`, 401, "unauthenticated"},
		{"anonymous list", "GET", "/api/orders", "", "", 401, "unauthenticated"},
		{"anonymous get", "GET", "/api/orders/" + o.ID, "", "", 401, "unauthenticated"},
		{"anonymous cancel", "DELETE", "/api/orders/" + o.ID, "", "", 401, "unauthenticated"},
		{"seller orders own ticket", "POST", "/api/orders", seller, `{"ticketId":"` + ticketID + `"}`, 403, "own_ticket"},
		{"unknown ticket", "POST", "/api/orders", buyer, `{"ticketId":"777777777777777777777777"}`, 404, "ticket_not_found"},
		{"reserved ticket", "POST", "/api/orders", "buyer-2", `{"ticketId":"` + ticketID + `"}`, 409, "ticket_unavailable"},
		{"stranger views", "GET", "/api/orders/" + o.ID, "stranger", "", 404, "order_not_found"},
		{"unknown order", "GET", "/api/orders/777777777777777777777777", buyer, "", 404, "order_not_found"},
		{"stranger cancels", "DELETE", "/api/orders/" + o.ID, "stranger", "", 404, "order_not_found"},
		{"seller views", "GET", "/api/orders/" + o.ID, seller, "", 200, ""},
		{"admin views", "GET", "/api/orders/" + o.ID, "admin", "", 200, ""},
		{"seller cancels", "DELETE", "/api/orders/" + o.ID, seller, "", 403, "not_order_owner"},
		{"admin cancels", "DELETE", "/api/orders/" + o.ID, "admin", "", 403, "not_order_owner"},
	}
	for _, tt := range tests {
		rec := s.do(tt.method, tt.path, tt.user, tt.body)
		if tt.code == "" {
			if rec.Code != tt.status {
				t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.status)
			}
			continue
		}
		t.Run(tt.name, func(t *testing.T) { wantError(t, rec, tt.status, tt.code, "") })
	}
}

func TestCancelOrder_TwiceIsHarmlessAndCompleteIsAConflict(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	o := s.order(t, buyer)
	for range 2 {
		rec := s.do("DELETE", "/api/orders/"+o.ID, buyer, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"cancelled"`) || !strings.Contains(rec.Body.String(), `"version":1`) {
			t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
		}
	}
	paid := s.order(t, "buyer-2")
	if _, err := s.orders.Update(context.Background(), paid.ID, func(o *domain.Order) (bool, error) {
		return reserveAndComplete(o, "aaaaaaaaaaaaaaaaaaaaaaaa")
	}); err != nil {
		t.Fatal(err)
	}
	wantError(t, s.do("DELETE", "/api/orders/"+paid.ID, "buyer-2", ""), 409, "order_not_cancellable", "")
}

func TestOrders_BadInputIs400NamingTheFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"malformed JSON", "POST", "/api/orders", `{"ticketId":`, 400, ""},
		{"not an object", "POST", "/api/orders", `["x"]`, 400, ""},
		{"unknown field", "POST", "/api/orders", `{"ticketId":"` + ticketID + `","price":1}`, 400, "price"},
		{"wrong type", "POST", "/api/orders", `{"ticketId":5}`, 400, "ticketId"},
		{"missing ticketId", "POST", "/api/orders", `{}`, 400, "ticketId"},
		{"malformed ticketId", "POST", "/api/orders", `{"ticketId":"nope"}`, 400, "ticketId"},
		{"empty body", "POST", "/api/orders", ``, 400, ""},
		{"malformed id to get", "GET", "/api/orders/nope", "", 400, "id"},
		{"malformed id to cancel", "DELETE", "/api/orders/nope", "", 400, "id"},
		{"limit 0", "GET", "/api/orders?limit=0", "", 400, "limit"},
		{"limit 101", "GET", "/api/orders?limit=101", "", 400, "limit"},
		{"limit not a number", "GET", "/api/orders?limit=ten", "", 400, "limit"},
		{"bad cursor", "GET", "/api/orders?cursor=abc", "", 400, "cursor"},
		{"bad as", "GET", "/api/orders?as=admin", "", 400, "as"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, s.do(tt.method, tt.path, buyer, tt.body), tt.status, "", tt.field)
		})
	}
	req := httptest.NewRequest("POST", "/api/orders", strings.NewReader(`ticketId=x`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-User", buyer)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	wantError(t, rec, 415, "unsupported_media_type", "")
	if stored, _ := s.orders.List(context.Background(), domain.ListQuery{Role: domain.RoleBuyer, UserID: buyer, Limit: 100}); len(stored) != 0 {
		t.Fatalf("bad input stored %d orders", len(stored))
	}
}

func TestListOrders_PagesNewestFirstWithCursorsOfTheirOwnList(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var created []string
	for range 3 {
		o := s.order(t, buyer)
		created = append(created, o.ID)
		if rec := s.do("DELETE", "/api/orders/"+o.ID, buyer, ""); rec.Code != 200 {
			t.Fatal(rec.Body)
		}
	}
	type page struct {
		Items []orderJSON `json:"items"`
		Next  *string     `json:"next"`
	}
	get := func(path, user string) page {
		rec := s.do("GET", path, user, "")
		var p page
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return p
	}
	first := get("/api/orders?limit=2", buyer)
	if len(first.Items) != 2 || first.Items[0].ID != created[2] || first.Next == nil {
		t.Fatalf("first page %+v", first)
	}
	second := get("/api/orders?limit=2&cursor="+*first.Next, buyer)
	if len(second.Items) != 1 || second.Items[0].ID != created[0] || second.Next != nil {
		t.Fatalf("second page %+v", second)
	}
	if sold := get("/api/orders?as=seller", seller); len(sold.Items) != 3 {
		t.Fatalf("seller sees %d orders, want 3", len(sold.Items))
	}
	if none := get("/api/orders?as=seller", buyer); len(none.Items) != 0 || none.Next != nil {
		t.Fatalf("buyer as seller sees %+v", none)
	}
	wantError(t, s.do("GET", "/api/orders?as=seller&limit=2&cursor="+*first.Next, buyer, ""), 400, "validation_failed", "cursor")
	wantError(t, s.do("GET", "/api/orders?limit=2&cursor="+*first.Next, "buyer-2", ""), 400, "validation_failed", "cursor")
}

func TestOrders_KetoUnavailableIs503(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	o := s.order(t, buyer)
	s.perms.Down = true
	wantError(t, s.do("GET", "/api/orders/"+o.ID, buyer, ""), 503, "dependency_unavailable", "")
	wantError(t, s.do("POST", "/api/orders", "buyer-2", `{"ticketId":"`+ticketID+`"}`), 503, "dependency_unavailable", "")
}

func TestOpenAPI_DocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rec := s.do("GET", "/api/orders/openapi.json", "", "")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %d %.200s", rec.Code, rec.Body)
	}
	for path, methods := range map[string][]string{
		"/api/orders":              {"get", "post"},
		"/api/orders/{id}":         {"get", "delete"},
		"/api/orders/openapi.json": {"get"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("openapi.json lacks %s %s", m, path)
			}
		}
	}
}

// reserveAndComplete completes o as the events do: the ticket's
// reservation confirmed first, then the payment.
func reserveAndComplete(o *domain.Order, paymentID string) (bool, error) {
	o.ConfirmReservation()
	return o.Complete(paymentID), nil
}

// testHolds is the hold limit of the tests' buyers.
const testHolds = 5

// unlimited is a limiter that admits everything: the port's tests are not
// about pacing.
type unlimited struct{}

func (unlimited) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }

func (unlimited) Check(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }
