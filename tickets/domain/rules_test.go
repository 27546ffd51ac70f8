package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/tickets/domain"
)

const (
	ticketID = "65f000000000000000000001"
	sellerID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
)

var listedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func price(p int64) *int64 { return &p }

func str(s string) *string { return &s }

// fields lists the fields an error names, "" when it is not a validation
// error.
func fields(err error) []string {
	e, ok := apierr.As(err)
	if !ok {
		return nil
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Field
	}
	return out
}

func TestNewTicket_ValidatesTheListing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		listing    domain.Listing
		wantFields string // comma-separated; "" for a valid listing
		wantTitle  string
		wantCur    string
	}{
		{name: "minimal", listing: domain.Listing{Title: "Jazz", Price: price(2500)}, wantTitle: "Jazz", wantCur: "eur"},
		{name: "title 2 characters", listing: domain.Listing{Title: "ab", Price: price(1)}, wantFields: "title"},
		{name: "title 3 characters", listing: domain.Listing{Title: "abc", Price: price(1)}, wantTitle: "abc", wantCur: "eur"},
		{name: "title 3 multi-byte characters", listing: domain.Listing{Title: "日本語", Price: price(1)}, wantTitle: "日本語", wantCur: "eur"},
		{name: "title 2 multi-byte characters (6 bytes)", listing: domain.Listing{Title: "日本", Price: price(1)}, wantFields: "title"},
		{name: "title 56 characters", listing: domain.Listing{Title: strings.Repeat("x", 56), Price: price(1)}, wantTitle: strings.Repeat("x", 56), wantCur: "eur"},
		{name: "title 56 multi-byte characters", listing: domain.Listing{Title: strings.Repeat("é", 56), Price: price(1)}, wantTitle: strings.Repeat("é", 56), wantCur: "eur"},
		{name: "title 57 characters", listing: domain.Listing{Title: strings.Repeat("x", 57), Price: price(1)}, wantFields: "title"},
		{name: "title 57 multi-byte characters", listing: domain.Listing{Title: strings.Repeat("é", 57), Price: price(1)}, wantFields: "title"},
		{name: "title trimmed before counting", listing: domain.Listing{Title: "   ab   ", Price: price(1)}, wantFields: "title"},
		{name: "title trimmed", listing: domain.Listing{Title: "  Jazz Night \t", Price: price(1)}, wantTitle: "Jazz Night", wantCur: "eur"},
		{name: "title with a control character", listing: domain.Listing{Title: "Jazz\nNight", Price: price(1)}, wantFields: "title"},
		{name: "title with a bidirectional override", listing: domain.Listing{Title: "Jazz \u202eNight", Price: price(1)}, wantFields: "title"},
		{name: "title with no visible character", listing: domain.Listing{Title: "\u3164\u3164\u3164", Price: price(1)}, wantFields: "title"},
		{name: "title missing", listing: domain.Listing{Price: price(1)}, wantFields: "title"},
		{name: "price -1", listing: domain.Listing{Title: "Jazz", Price: price(-1)}, wantFields: "price"},
		{name: "price 0 (free)", listing: domain.Listing{Title: "Jazz", Price: price(0)}, wantTitle: "Jazz", wantCur: "eur"},
		{name: "price max", listing: domain.Listing{Title: "Jazz", Price: price(domain.MaxPrice)}, wantTitle: "Jazz", wantCur: "eur"},
		{name: "price max+1", listing: domain.Listing{Title: "Jazz", Price: price(domain.MaxPrice + 1)}, wantFields: "price"},
		{name: "price missing", listing: domain.Listing{Title: "Jazz"}, wantFields: "price"},
		{name: "currency usd", listing: domain.Listing{Title: "Jazz", Price: price(1), Currency: "usd"}, wantTitle: "Jazz", wantCur: "usd"},
		{name: "currency jpy (zero-decimal)", listing: domain.Listing{Title: "Jazz", Price: price(1), Currency: "jpy"}, wantTitle: "Jazz", wantCur: "jpy"},
		{name: "currency upper case", listing: domain.Listing{Title: "Jazz", Price: price(1), Currency: "EUR"}, wantFields: "currency"},
		{name: "currency unknown", listing: domain.Listing{Title: "Jazz", Price: price(1), Currency: "xyz"}, wantFields: "currency"},
		{name: "currency not three letters", listing: domain.Listing{Title: "Jazz", Price: price(1), Currency: "euro"}, wantFields: "currency"},
		{name: "everything wrong at once", listing: domain.Listing{Title: "a", Price: price(-5), Currency: "zzz"}, wantFields: "title,price,currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticket, err := domain.NewTicket(ticketID, sellerID, tt.listing, listedAt)
			if tt.wantFields != "" {
				if apierr.Status(err) != 400 || strings.Join(fields(err), ",") != tt.wantFields {
					t.Fatalf("NewTicket() error = %v (fields %v), want 400 naming %s", err, fields(err), tt.wantFields)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewTicket() = %v", err)
			}
			if ticket.Title() != tt.wantTitle || ticket.Currency() != tt.wantCur || ticket.Price() != *tt.listing.Price ||
				ticket.Status() != domain.StatusAvailable || ticket.Version() != 0 || ticket.OrderID() != "" ||
				ticket.SellerID() != sellerID || ticket.ID() != ticketID || !ticket.CreatedAt().Equal(listedAt) {
				t.Errorf("NewTicket() = %+v", ticket.Snapshot())
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"65f000000000000000000001", true},
		{"65F000000000000000000001", false},
		{"65f00000000000000000001", false},
		{"65f0000000000000000000011", false},
		{"65f00000000000000000000g", false},
		{"", false},
		{"../../etc/passwd", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidateID(tt.id)
			if tt.want != (err == nil) || (err != nil && strings.Join(fields(err), ",") != "id") {
				t.Errorf("ValidateID(%q) = %v, want valid %v", tt.id, err, tt.want)
			}
		})
	}
}

func TestNewTitleSearch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    domain.TitleSearch
		wantErr bool
	}{
		{name: "empty", raw: "", want: ""},
		{name: "lower-cased and trimmed", raw: "  Jazz ", want: "jazz"},
		{name: "multi-byte lower-cased", raw: "ÉCOLE", want: "école"},
		{name: "regex metacharacters kept literally", raw: `.*(a|b)\$^[`, want: `.*(a|b)\$^[`},
		{name: "56 characters", raw: strings.Repeat("é", 56), want: domain.TitleSearch(strings.Repeat("é", 56))},
		{name: "57 characters", raw: strings.Repeat("é", 57), wantErr: true},
		{name: "invalid UTF-8", raw: "\xff\xfe", wantErr: true},
		{name: "NUL byte", raw: "a\x00b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NewTitleSearch(tt.raw)
			if tt.wantErr {
				if strings.Join(fields(err), ",") != "title" {
					t.Fatalf("NewTitleSearch(%q) = %q, %v; want 400 naming title", tt.raw, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NewTitleSearch(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestSupportedCurrency(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{"eur": true, "usd": true, "gbp": true, "chf": true, "jpy": true, "EUR": false, "xxx": false, "eu": false, "": false, "btc": false} {
		if got := domain.SupportedCurrency(code); got != want {
			t.Errorf("SupportedCurrency(%q) = %v, want %v", code, got, want)
		}
	}
}
