package ports_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/session"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/app/apptest"
	"github.com/ticketing/ticketing/tickets/domain"
	"github.com/ticketing/ticketing/tickets/ports"
)

const (
	alice = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	bob   = "9b2f6c1e-2a3d-4e5f-8a7b-6c5d4e3f2a1b"
)

var discard = slog.New(slog.NewJSONHandler(io.Discard, nil))

// fakeSessions authenticates a request carrying X-Test-User as that user.
type fakeSessions struct{}

func (fakeSessions) Require() gin.HandlerFunc { return authenticate(true) }

func (fakeSessions) Optional() gin.HandlerFunc { return authenticate(false) }

func authenticate(required bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Test-User")
		if id == "" {
			if required {
				httpserver.WriteError(c, apierr.Unauthenticated("no session"))
			}
			return
		}
		s := session.Session{ID: "s-" + id, Identity: session.Identity{ID: id}, Credential: session.Credential{Token: "t"}}
		c.Request = c.Request.WithContext(session.NewContext(c.Request.Context(), s))
	}
}

type server struct {
	handler     http.Handler
	tickets     *adapters.MemoryTicketRepository
	permissions *apptest.Permissions
	app         app.Application
}

func newServer(t *testing.T) server {
	t.Helper()
	tickets := adapters.NewMemoryTicketRepository()
	permissions := &apptest.Permissions{}
	application := app.Application{
		CreateTicket: app.NewCreateTicketHandler(tickets, permissions, adapters.NewTicketID, discard),
		EditTicket:   app.NewEditTicketHandler(tickets, permissions),
		GetTicket:    app.NewGetTicketHandler(tickets, permissions),
		ListTickets:  app.NewListTicketsHandler(tickets),
		ApplyOrder:   app.NewApplyOrderHandler(tickets, discard),
		RepairGrants: app.NewRepairGrantsHandler(tickets, permissions, 30*time.Second, discard),
	}
	engine := httpserver.New(discard)
	ports.NewHTTPServer(application, fakeSessions{}, pagination.NewSigner("test-cursor-secret-0123456789")).Register(engine)
	return server{handler: engine, tickets: tickets, permissions: permissions, app: application}
}

type call struct {
	method, path, body, user string
	headers                  map[string]string
}

func (s server) do(c call) *httptest.ResponseRecorder {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.Header.Set("X-Test-User", c.user)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

// create lists a ticket as seller through the API.
func (s server) create(t *testing.T, seller, title string) ticketJSON {
	t.Helper()
	rec := s.do(call{method: "POST", path: "/api/tickets", user: seller, body: `{"title":"` + title + `","price":2500}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var out ticketJSON
	decode(t, rec, &out)
	return out
}

type ticketJSON struct {
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

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
}

// wantError checks the status, the code (when given) and that exactly the
// given fields are named (when given).
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string, fields ...string) {
	t.Helper()
	var body apierr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != status {
		t.Fatalf("answer %d %s, want %d in the error shape", rec.Code, rec.Body, status)
	}
	if code != "" && body.Error.Code != code {
		t.Errorf("code %q, want %q (%s)", body.Error.Code, code, rec.Body)
	}
	var named []string
	for _, f := range body.Error.Fields {
		named = append(named, f.Field)
	}
	if len(fields) > 0 && !slices.Equal(named, fields) {
		t.Errorf("fields %v, want %v (%s)", named, fields, rec.Body)
	}
}

func TestCreateTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		call       call
		wantStatus int
		wantCode   string
		wantFields []string
	}{
		{name: "created", call: call{body: `{"title":" Jazz Night ","price":2500,"currency":"usd"}`}, wantStatus: 201},
		{name: "default currency, free", call: call{body: `{"title":"Jazz Night","price":0}`}, wantStatus: 201},
		{name: "anonymous", call: call{user: "-", body: `{"title":"Jazz Night","price":1}`}, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "title too short", call: call{body: `{"title":"ab","price":1}`}, wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"title"}},
		{name: "title too long", call: call{body: `{"title":"` + strings.Repeat("x", 57) + `","price":1}`}, wantStatus: 400, wantFields: []string{"title"}},
		{name: "title missing", call: call{body: `{"price":1}`}, wantStatus: 400, wantFields: []string{"title"}},
		{name: "negative price", call: call{body: `{"title":"Jazz Night","price":-1}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "price over the maximum", call: call{body: `{"title":"Jazz Night","price":100000001}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "non-integer price", call: call{body: `{"title":"Jazz Night","price":12.5}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "price as a string", call: call{body: `{"title":"Jazz Night","price":"12"}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "price overflowing int64", call: call{body: `{"title":"Jazz Night","price":1e30}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "price missing", call: call{body: `{"title":"Jazz Night"}`}, wantStatus: 400, wantFields: []string{"price"}},
		{name: "unknown currency", call: call{body: `{"title":"Jazz Night","price":1,"currency":"xyz"}`}, wantStatus: 400, wantFields: []string{"currency"}},
		{name: "title as a number", call: call{body: `{"title":12,"price":1}`}, wantStatus: 400, wantFields: []string{"title"}},
		{name: "unknown field", call: call{body: `{"title":"Jazz Night","price":1,"status":"sold"}`}, wantStatus: 400, wantFields: []string{"status"}},
		{name: "everything wrong", call: call{body: `{"title":"a","price":-1,"currency":"EUR"}`}, wantStatus: 400, wantFields: []string{"title", "price", "currency"}},
		{name: "malformed JSON", call: call{body: `{"title":`}, wantStatus: 400, wantCode: "malformed_json"},
		{name: "not an object", call: call{body: `["Jazz Night"]`}, wantStatus: 400, wantCode: "malformed_json"},
		{name: "empty body", call: call{headers: map[string]string{"Content-Type": "application/json"}}, wantStatus: 400, wantCode: "empty_body"},
		{name: "not JSON", call: call{body: `title=Jazz`, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, wantStatus: 415, wantCode: "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			c := tt.call
			c.method, c.path = "POST", "/api/tickets"
			switch c.user {
			case "":
				c.user = alice
			case "-":
				c.user = ""
			}
			rec := s.do(c)
			if tt.wantStatus != http.StatusCreated {
				wantError(t, rec, tt.wantStatus, tt.wantCode, tt.wantFields...)
				if stored, _ := s.tickets.List(context.Background(), app.TicketFilter{SellerID: alice, Limit: 10}); len(stored) != 0 {
					t.Errorf("a refused create stored %d tickets", len(stored))
				}
				return
			}
			var got ticketJSON
			decode(t, rec, &got)
			if rec.Code != 201 || got.ID == "" || got.UserID != alice || got.Version != 0 || got.Status != "available" ||
				got.OrderID != "" || got.Title != "Jazz Night" || got.CreatedAt.IsZero() {
				t.Fatalf("201 %+v", got)
			}
			if loc := rec.Header().Get("Location"); loc != "/api/tickets/"+got.ID {
				t.Errorf("Location %q", loc)
			}
			if s.permissions.Owner(got.ID) != alice {
				t.Error("answered 201 before the owner tuple was written")
			}
		})
	}
}

func TestGetTicket(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	created := s.create(t, alice, "Jazz Night")
	rec := s.do(call{method: "GET", path: "/api/tickets/" + created.ID})
	var got ticketJSON
	decode(t, rec, &got)
	if rec.Code != 200 || got != created {
		t.Errorf("GET = %d %+v, want %+v", rec.Code, got, created)
	}
	wantError(t, s.do(call{method: "GET", path: "/api/tickets/not-an-id"}), 400, "validation_failed", "id")
	wantError(t, s.do(call{method: "GET", path: "/api/tickets/65F000000000000000000001"}), 400, "validation_failed", "id")
	wantError(t, s.do(call{method: "GET", path: "/api/tickets/" + adapters.NewTicketID()}), 404, "ticket_not_found")
}

func TestEditTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		user        string
		path        string // default: the created ticket
		body        string
		reserved    bool
		wantStatus  int
		wantCode    string
		wantFields  []string
		wantVersion int64
	}{
		{name: "owner changes the title", user: alice, body: `{"title":"Rock Night"}`, wantStatus: 200, wantVersion: 1},
		{name: "owner changes price and currency", user: alice, body: `{"price":100,"currency":"gbp"}`, wantStatus: 200, wantVersion: 1},
		{name: "stranger", user: bob, body: `{"title":"Rock Night"}`, wantStatus: 403, wantCode: "not_ticket_editor"},
		{name: "anonymous", body: `{"title":"Rock Night"}`, wantStatus: 401},
		{name: "unknown ticket", user: alice, path: "/api/tickets/" + adapters.NewTicketID(), body: `{"title":"Rock Night"}`, wantStatus: 404},
		{name: "malformed id", user: alice, path: "/api/tickets/xyz", body: `{"title":"Rock Night"}`, wantStatus: 400, wantFields: []string{"id"}},
		{name: "reserved", user: alice, reserved: true, body: `{"title":"Rock Night"}`, wantStatus: 409, wantCode: "ticket_locked"},
		{name: "nothing to change", user: alice, body: `{}`, wantStatus: 400, wantCode: "nothing_to_change"},
		{name: "only nulls", user: alice, body: `{"title":null,"price":null}`, wantStatus: 400, wantCode: "nothing_to_change"},
		{name: "title too long", user: alice, body: `{"title":"` + strings.Repeat("é", 57) + `"}`, wantStatus: 400, wantFields: []string{"title"}},
		{name: "non-integer price", user: alice, body: `{"price":12.5}`, wantStatus: 400, wantFields: []string{"price"}},
		{name: "negative price", user: alice, body: `{"price":-1}`, wantStatus: 400, wantFields: []string{"price"}},
		{name: "unknown currency", user: alice, body: `{"currency":"abc"}`, wantStatus: 400, wantFields: []string{"currency"}},
		{name: "unknown field", user: alice, body: `{"userId":"` + bob + `"}`, wantStatus: 400, wantFields: []string{"userId"}},
		{name: "malformed JSON", user: alice, body: `{"title"`, wantStatus: 400, wantCode: "malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			created := s.create(t, alice, "Jazz Night")
			if tt.reserved {
				err := s.app.ApplyOrder.Handle(context.Background(), app.ApplyOrder{TicketID: created.ID,
					Event: domain.OrderEvent{Kind: domain.OrderCreated, OrderID: "65f0000000000000000000aa", Price: 2500, Currency: "eur"}})
				if err != nil {
					t.Fatal(err)
				}
			}
			path := tt.path
			if path == "" {
				path = "/api/tickets/" + created.ID
			}
			rec := s.do(call{method: "PATCH", path: path, user: tt.user, body: tt.body})
			if tt.wantStatus != 200 {
				wantError(t, rec, tt.wantStatus, tt.wantCode, tt.wantFields...)
				return
			}
			var got ticketJSON
			decode(t, rec, &got)
			if rec.Code != 200 || got.Version != tt.wantVersion {
				t.Errorf("PATCH = %d %+v", rec.Code, got)
			}
		})
	}
}

func TestGetTicket_OrderIDOnlyForTheSellerAndAdmins(t *testing.T) {
	t.Parallel()
	const admin, order = "0c1d2e3f-4a5b-4c6d-8e7f-001122334455", "65f0000000000000000000aa"
	s := newServer(t)
	s.permissions.Admins = map[string]bool{admin: true}
	created := s.create(t, alice, "Jazz Night")
	if err := s.app.ApplyOrder.Handle(context.Background(), app.ApplyOrder{TicketID: created.ID,
		Event: domain.OrderEvent{Kind: domain.OrderCreated, OrderID: order, Price: 2500, Currency: "eur"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, wantOrder string
	}{
		{"anonymous", "", ""},
		{"another user", bob, ""},
		{"the seller", alice, order},
		{"an admin", admin, order},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(call{method: "GET", path: "/api/tickets/" + created.ID, user: tt.user})
			var fields map[string]any
			decode(t, rec, &fields)
			got, present := fields["orderId"]
			if rec.Code != http.StatusOK || fields["status"] != "reserved" || (tt.wantOrder == "" && present) || (tt.wantOrder != "" && got != tt.wantOrder) {
				t.Fatalf("GET as %s = %d %s; want 200, reserved, orderId %q", tt.name, rec.Code, rec.Body, tt.wantOrder)
			}
		})
	}
	s.permissions.Err = errors.New("keto down")
	rec := s.do(call{method: "GET", path: "/api/tickets/" + created.ID})
	if rec.Code != http.StatusOK {
		t.Fatalf("anonymous GET with Keto down = %d, want 200 (Keto is not asked)", rec.Code)
	}
}
