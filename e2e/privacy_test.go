package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestTickets_PublicReadHidesOrderID checks who learns which order holds a
// ticket: an order id is the buyer's private data, so anonymous callers and
// other users never see it, while the seller and admins do.
func TestTickets_PublicReadHidesOrderID(t *testing.T) {
	t.Parallel()
	seller, buyer, stranger := signUp(t, "privacy-seller"), signUp(t, "privacy-buyer"), signUp(t, "privacy-stranger")
	tk := createTicket(t, seller, uniqueTitle("Private hold"), 1200)
	order := placeOrder(t, buyer, tk.ID)
	waitTicket(t, tk.ID, "reserved", order.ID)

	// hasOrderID reports whether a ticket object carries the orderId key at
	// all (an empty value would still reveal that the key exists).
	hasOrderID := func(t *testing.T, raw json.RawMessage) (string, bool) {
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatalf("ticket %s: %v", raw, err)
		}
		id, ok := fields["orderId"]
		s, _ := id.(string)
		return s, ok
	}
	cases := []struct {
		name   string
		token  string
		wantID string // "" → the key must be absent
	}{
		{"anonymous", "", ""},
		{"another user", stranger.Token, ""},
		{"the buyer (not the seller)", buyer.Token, ""},
		{"the seller", seller.Token, order.ID},
		{"an admin", ticketAdmin(t).Token, order.ID},
	}
	for _, c := range cases {
		t.Run("GET /api/tickets/{id} as "+c.name, func(t *testing.T) {
			resp := do(t, request{Method: "GET", Path: "/api/tickets/" + tk.ID, Token: c.token}).wantStatus(t, http.StatusOK)
			got, present := hasOrderID(t, resp.Body)
			if c.wantID == "" && present {
				t.Fatalf("%s sees orderId %q: %s", c.name, got, resp.Body)
			}
			if c.wantID != "" && got != c.wantID {
				t.Fatalf("%s sees orderId %q, want %q: %s", c.name, got, c.wantID, resp.Body)
			}
		})
	}
	t.Run("the seller's own list shows the order", func(t *testing.T) {
		var page struct{ Items []json.RawMessage }
		do(t, request{Method: "GET", Path: "/api/tickets?mine=true&title=" + url.QueryEscape(tk.Title), Token: seller.Token}).
			wantStatus(t, http.StatusOK).decode(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("mine list has %d items, want 1", len(page.Items))
		}
		if got, _ := hasOrderID(t, page.Items[0]); got != order.ID {
			t.Fatalf("seller's list shows orderId %q, want %q", got, order.ID)
		}
	})
}
