package pagination

import (
	"strings"
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
)

func TestParse_Limit(t *testing.T) {
	t.Parallel()
	s := NewSigner("secret")
	cases := []struct {
		raw  string
		want int
		ok   bool
	}{
		{"", 20, true}, {"1", 1, true}, {"100", 100, true},
		{"0", 0, false}, {"101", 0, false}, {"-5", 0, false}, {"ten", 0, false}, {"2.5", 0, false}, {"1e2", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			p, err := s.Parse(tc.raw, "", "tickets")
			if !tc.ok {
				e, isAPI := apierr.As(err)
				if !isAPI || e.Kind != apierr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "limit" {
					t.Fatalf("limit %q: err %v, want a 400 naming limit", tc.raw, err)
				}
				return
			}
			if err != nil || p.Limit != tc.want {
				t.Fatalf("limit %q: %+v, %v", tc.raw, p, err)
			}
		})
	}
}

func TestCursor_RoundTripAndRejections(t *testing.T) {
	t.Parallel()
	s := NewSigner("secret")
	page := Page{Limit: 2}
	next := s.Next(page, 2, "656565656565656565656565", "tickets?title=jazz")
	if next == nil {
		t.Fatal("a full page has a next cursor")
	}
	if s.Next(page, 1, "x", "tickets") != nil {
		t.Fatal("a short page has no next cursor")
	}
	p, err := s.Parse("2", *next, "tickets?title=jazz")
	if err != nil || p.After != "656565656565656565656565" {
		t.Fatalf("round trip: %+v, %v", p, err)
	}
	tampered := []byte(*next)
	tampered[3] ^= 1
	for name, c := range map[string]struct{ cursor, scope string }{
		"other list":     {*next, "tickets?title=rock"},
		"tampered":       {string(tampered), "tickets?title=jazz"},
		"other secret":   {*NewSigner("other").Next(page, 2, "a", "tickets?title=jazz"), "tickets?title=jazz"},
		"not base64":     {"!!!", "tickets?title=jazz"},
		"too short":      {"YWJj", "tickets?title=jazz"},
		"random garbage": {strings.Repeat("A", 80), "tickets?title=jazz"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Parse("", c.cursor, c.scope)
			e, ok := apierr.As(err)
			if !ok || e.Kind != apierr.KindInvalid || e.Fields[0].Field != "cursor" {
				t.Fatalf("err %v, want a 400 naming cursor", err)
			}
		})
	}
}
