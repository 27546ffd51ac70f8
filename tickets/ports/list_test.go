package ports_test

import (
	"net/url"
	"strings"
	"testing"
)

type pageJSON struct {
	Items []ticketJSON `json:"items"`
	Next  *string      `json:"next"`
}

func (s server) list(t *testing.T, user string, query url.Values) pageJSON {
	t.Helper()
	rec := s.do(call{method: "GET", path: "/api/tickets?" + query.Encode(), user: user})
	if rec.Code != 200 {
		t.Fatalf("GET ?%s: %d %s", query.Encode(), rec.Code, rec.Body)
	}
	var page pageJSON
	decode(t, rec, &page)
	return page
}

func titlesOf(p pageJSON) string {
	out := make([]string, len(p.Items))
	for i, item := range p.Items {
		out[i] = item.Title
	}
	return strings.Join(out, "|")
}

func TestListTickets_PagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, title := range []string{"T-1", "T-2", "T-3", "T-4", "T-5"} {
		s.create(t, alice, title)
	}
	var pages []string
	q := url.Values{"limit": {"2"}}
	for {
		page := s.list(t, "", q)
		pages = append(pages, titlesOf(page))
		if page.Next == nil {
			break
		}
		q.Set("cursor", *page.Next)
	}
	if got, want := strings.Join(pages, " / "), "T-5|T-4 / T-3|T-2 / T-1"; got != want {
		t.Errorf("pages %q, want %q", got, want)
	}
	// A full last page is not followed by an empty one.
	if page := s.list(t, "", url.Values{"limit": {"5"}}); page.Next != nil || len(page.Items) != 5 {
		t.Errorf("limit 5 of 5: %d items, next %v; want 5 and null", len(page.Items), page.Next)
	}
	// No ticket: an empty array, not null.
	rec := s.do(call{method: "GET", path: "/api/tickets?title=nothing-matches"})
	if rec.Body.String() != `{"items":[],"next":null}` {
		t.Errorf("empty list: %s", rec.Body)
	}
}

func TestListTickets_SearchesAndListsMine(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.create(t, alice, "Jazz Night")
	s.create(t, alice, "a.b (live)")
	s.create(t, bob, "JAZZ brunch")
	tests := []struct {
		user  string
		query url.Values
		want  string
	}{
		{query: url.Values{"title": {"jazz"}}, want: "JAZZ brunch|Jazz Night"},
		{query: url.Values{"title": {" NIGHT "}}, want: "Jazz Night"},
		{query: url.Values{"title": {".*("}}, want: ""},
		{query: url.Values{"title": {"a.b ("}}, want: "a.b (live)"},
		{query: url.Values{"title": {`\`}}, want: ""},
		{user: alice, query: url.Values{"mine": {"true"}}, want: "a.b (live)|Jazz Night"},
		{user: alice, query: url.Values{"mine": {"true"}, "title": {"jazz"}}, want: "Jazz Night"},
		{user: bob, query: url.Values{"mine": {"true"}}, want: "JAZZ brunch"},
		{user: bob, query: url.Values{"mine": {"false"}}, want: "JAZZ brunch|a.b (live)|Jazz Night"},
	}
	for _, tt := range tests {
		if got := titlesOf(s.list(t, tt.user, tt.query)); got != tt.want {
			t.Errorf("%s as %q: %q, want %q", tt.query.Encode(), tt.user, got, tt.want)
		}
	}
}

func TestListTickets_RejectsBadQueries(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for range 3 {
		s.create(t, alice, "Jazz Night")
	}
	first := s.list(t, "", url.Values{"limit": {"1"}})
	mineFirst := s.list(t, alice, url.Values{"limit": {"1"}, "mine": {"true"}})
	tampered := []byte(*first.Next)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		name       string
		user       string
		query      string
		wantStatus int
		wantFields []string
	}{
		{name: "limit 0", query: "limit=0", wantStatus: 400, wantFields: []string{"limit"}},
		{name: "limit 101", query: "limit=101", wantStatus: 400, wantFields: []string{"limit"}},
		{name: "limit abc", query: "limit=abc", wantStatus: 400, wantFields: []string{"limit"}},
		{name: "limit twice", query: "limit=1&limit=2", wantStatus: 400, wantFields: []string{"limit"}},
		{name: "mine=maybe", query: "mine=maybe", wantStatus: 400, wantFields: []string{"mine"}},
		{name: "mine without a session", query: "mine=true", wantStatus: 401},
		{name: "title too long", query: "title=" + strings.Repeat("x", 57), wantStatus: 400, wantFields: []string{"title"}},
		{name: "title with a control character", query: "title=a%00b", wantStatus: 400, wantFields: []string{"title"}},
		{name: "title not UTF-8", query: "title=%FF%FE", wantStatus: 400, wantFields: []string{"title"}},
		{name: "several problems at once", query: "mine=maybe&limit=0&title=" + strings.Repeat("x", 57), wantStatus: 400, wantFields: []string{"mine", "title", "limit"}},
		{name: "tampered cursor", query: "cursor=" + url.QueryEscape(string(tampered)), wantStatus: 400, wantFields: []string{"cursor"}},
		{name: "garbage cursor", query: "cursor=abc", wantStatus: 400, wantFields: []string{"cursor"}},
		{name: "cursor of another search", query: "title=jazz&cursor=" + url.QueryEscape(*first.Next), wantStatus: 400, wantFields: []string{"cursor"}},
		{name: "cursor of the mine list on the public list", query: "cursor=" + url.QueryEscape(*mineFirst.Next), wantStatus: 400, wantFields: []string{"cursor"}},
		{name: "cursor of another user's mine list", user: bob, query: "mine=true&cursor=" + url.QueryEscape(*mineFirst.Next), wantStatus: 400, wantFields: []string{"cursor"}},
		{name: "unknown parameters are ignored", query: "foo=bar", wantStatus: 200},
		{name: "regex metacharacters are safe", query: "title=" + url.QueryEscape(`.*(`), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := s.do(call{method: "GET", path: "/api/tickets?" + tt.query, user: tt.user})
			if tt.wantStatus == 200 {
				if rec.Code != 200 {
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
				return
			}
			wantError(t, rec, tt.wantStatus, "", tt.wantFields...)
		})
	}
}
