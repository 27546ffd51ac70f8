package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// edgeFixture is one seller's ticket, ordered and being paid for by a
// buyer: something of each service to aim the edge cases at.
type edgeFixture struct {
	seller, buyer user
	ticket        ticketJSON
	order         orderJSON
	payment       paymentJSON
}

func newEdgeFixture(t *testing.T) edgeFixture {
	t.Helper()
	f := edgeFixture{seller: signUp(t, "edge-seller"), buyer: signUp(t, "edge-buyer")}
	f.ticket = createTicket(t, f.seller, uniqueTitle("Edge"), 2500)
	f.order = placeOrder(t, f.buyer, f.ticket.ID)
	f.payment = pay(t, f.buyer, f.order)
	return f
}

// TestStrictJSON_EveryServiceRefusesAmbiguousBodies: a body that Go's
// decoder would read one way and another parser another way (a key twice,
// a key in another letter case, bytes that are not UTF-8) is refused by
// every service, naming the field; a body in an encoding or character set
// the services do not read is 415.
func TestStrictJSON_EveryServiceRefusesAmbiguousBodies(t *testing.T) {
	t.Parallel()
	f := newEdgeFixture(t)
	ticketPath := "/api/tickets/" + f.ticket.ID
	cases := []struct {
		name   string
		req    request
		status int
		code   string
		field  string
	}{
		{"auth: duplicate key", request{Method: "POST", Path: "/api/users/sign-up",
			Body: `{"email":"` + uniqueEmail("dup") + `","email":"` + uniqueEmail("dup") + `","password":"` + goodPassword + `"}`}, 400, "validation_failed", "email"},
		{"auth: key in another case", request{Method: "POST", Path: "/api/users/sign-in",
			Body: `{"Email":"` + f.buyer.Email + `","password":"` + goodPassword + `"}`}, 400, "validation_failed", "Email"},
		{"auth: nested key in another case", request{Method: "POST", Path: "/api/users/sign-up",
			Body: `{"email":"` + uniqueEmail("case") + `","password":"` + goodPassword + `","name":{"First":"Ann"}}`}, 400, "validation_failed", "name.First"},
		{"tickets: duplicate key", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":"Opera night","price":100,"price":1}`}, 400, "validation_failed", "price"},
		{"tickets: key in another case", request{Method: "PATCH", Path: ticketPath, Token: f.seller.Token,
			Body: `{"PRICE":1}`}, 400, "validation_failed", "PRICE"},
		{"tickets: invalid UTF-8", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: "{\"title\":\"Op\xffera night\",\"price\":100}"}, 400, "validation_failed", "title"},
		{"tickets: lone surrogate escape", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":"Opera \ud800 night","price":100}`}, 400, "validation_failed", "title"},
		{"tickets: charset latin1", request{Method: "PATCH", Path: ticketPath, Token: f.seller.Token, Body: `{"price":1}`,
			Headers: map[string]string{"Content-Type": "application/json; charset=latin1"}}, 415, "unsupported_media_type", ""},
		{"orders: key in another case", request{Method: "POST", Path: "/api/orders", Token: f.buyer.Token,
			Body: `{"ticketID":"` + f.ticket.ID + `"}`}, 400, "validation_failed", "ticketID"},
		{"orders: gzip content encoding", request{Method: "POST", Path: "/api/orders", Token: f.buyer.Token,
			Body: `{"ticketId":"` + f.ticket.ID + `"}`, Headers: map[string]string{"Content-Encoding": "gzip"}}, 415, "unsupported_media_type", ""},
		{"payments: duplicate key", request{Method: "POST", Path: "/api/payments", Token: f.buyer.Token,
			Body: `{"orderId":"` + f.order.ID + `","orderId":"` + f.order.ID + `"}`}, 400, "validation_failed", "orderId"},
		{"payments: charset iso-8859-1", request{Method: "POST", Path: "/api/payments", Token: f.buyer.Token,
			Body: `{"orderId":"` + f.order.ID + `"}`, Headers: map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}}, 415, "unsupported_media_type", ""},
		// Siblings that were already refused; kept so that they stay so.
		{"trailing data after the object", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":"Opera night","price":100} {}`}, 400, "malformed_json", ""},
		{"integer field sent as 1e400", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":"Opera night","price":1e400}`}, 400, "validation_failed", "price"},
		{"integer field sent as 2500.0", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":"Opera night","price":2500.0}`}, 400, "validation_failed", "price"},
		{"absurdly deep nesting", request{Method: "POST", Path: "/api/tickets", Token: f.seller.Token,
			Body: `{"title":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`}, 400, "malformed_json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do(t, tc.req).wantError(t, tc.status, tc.code, tc.field)
		})
	}
}

// TestCacheControl_NoStoreOnPrivateResponses: every answer that carries a
// session token, a client secret or a user's own data tells browsers and
// proxies not to keep it.
func TestCacheControl_NoStoreOnPrivateResponses(t *testing.T) {
	t.Parallel()
	f := newEdgeFixture(t)
	cases := []struct {
		name string
		req  request
	}{
		{"sign-up (token)", request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]string{"email": uniqueEmail("cache"), "password": goodPassword}}},
		{"sign-in (token)", request{Method: "POST", Path: "/api/users/sign-in", Body: map[string]string{"email": f.buyer.Email, "password": goodPassword}}},
		{"current user", request{Method: "GET", Path: "/api/users/current-user", Token: f.buyer.Token}},
		{"a seller's own tickets", request{Method: "GET", Path: "/api/tickets?mine=true", Token: f.seller.Token}},
		{"a buyer's orders", request{Method: "GET", Path: "/api/orders", Token: f.buyer.Token}},
		{"an order", request{Method: "GET", Path: "/api/orders/" + f.order.ID, Token: f.buyer.Token}},
		{"a payment with its client secret", request{Method: "POST", Path: "/api/payments", Token: f.buyer.Token, Body: map[string]string{"orderId": f.order.ID}}},
		{"a payment by id", request{Method: "GET", Path: "/api/payments/" + f.payment.ID, Token: f.buyer.Token}},
		{"a payment by order", request{Method: "GET", Path: "/api/payments?orderId=" + f.order.ID, Token: f.buyer.Token}},
		{"Kratos whoami", request{Method: "GET", Path: "/.ory/kratos/sessions/whoami", Headers: map[string]string{"X-Session-Token": f.buyer.Token}}},
		{"Kratos login flow", request{Method: "GET", Path: "/.ory/kratos/self-service/login/api"}},
		{"Kratos registration flow", request{Method: "GET", Path: "/.ory/kratos/self-service/registration/api"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, tc.req)
			if r.Status >= 300 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if got := r.Header.Values("Cache-Control"); len(got) != 1 || !strings.Contains(got[0], "no-store") {
				t.Fatalf("Cache-Control %q, want one header with no-store", got)
			}
		})
	}
}

// TestText_TitlesAndNamesRefuseInvisibleCharacters: text that another user
// reads (a ticket's title, a user's name) cannot hide characters, reorder
// what is shown, be blank, or pile combining marks over its neighbours.
func TestText_TitlesAndNamesRefuseInvisibleCharacters(t *testing.T) {
	t.Parallel()
	seller := signUp(t, "text-seller")
	ticket := createTicket(t, seller, uniqueTitle("Plain"), 100)
	bad := map[string]string{
		"zero-width space (Cf)":          "Opera\u200bnight",
		"right-to-left override (Cf)":    "Opera \u202enight",
		"line separator (Zl)":            "Opera\u2028night",
		"paragraph separator (Zp)":       "Opera\u2029night",
		"no visible character":           "\u3164\u3164\u3164",
		"five combining marks in a row":  "Ope\u0301\u0302\u0303\u0304\u0305ra",
		"combining grapheme joiners":     "Bob\u034f\u034f\u034f",
		"Khmer inherent vowel":           "Bob\u17b4",
		"Mongolian variation selector":   "Bob\u180b",
		"variation selector on a letter": "Bob\ufe0f",
		"noncharacter U+FFFF":            "Bob\uffff",
		"noncharacter U+FDD0":            "Bob\ufdd0",
		"unassigned U+0378":              "Bob\u0378",
	}
	for name, text := range bad {
		t.Run("title: "+name, func(t *testing.T) {
			t.Parallel()
			do(t, request{Method: "POST", Path: "/api/tickets", Token: seller.Token, Body: map[string]any{"title": text, "price": 100}}).
				wantError(t, 400, "validation_failed", "title")
			do(t, request{Method: "PATCH", Path: "/api/tickets/" + ticket.ID, Token: seller.Token, Body: map[string]any{"title": text}}).
				wantError(t, 400, "validation_failed", "title")
		})
		t.Run("name: "+name, func(t *testing.T) {
			t.Parallel()
			do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]any{
				"email": uniqueEmail("text"), "password": goodPassword, "name": map[string]string{"first": "Ann", "last": text},
			}}).wantError(t, 400, "validation_failed", "name.last")
		})
	}
	t.Run("accents and scripts stay welcome", func(t *testing.T) {
		t.Parallel()
		createTicket(t, seller, uniqueTitle("Café Zoë Ελληνικά عربى"), 100)
		createTicket(t, seller, uniqueTitle("Gig \u2764\ufe0f"), 100)
		do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]any{
			"email": uniqueEmail("text"), "password": goodPassword, "name": map[string]string{"first": "Zoë", "last": "Nguyễn"},
		}}).wantStatus(t, http.StatusCreated)
	})
}

// TestKratosRegistration_RefusesWhatSignUpRefuses: browsers and apps
// register through Kratos directly, so its identity schema holds the same
// name and email rules as POST /api/users/sign-up.
func TestKratosRegistration_RefusesWhatSignUpRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		traits string
		field  string
	}{
		{"bidi override in a name", `{"email":"` + uniqueEmail("kratos-bidi") + `","name":{"first":"Ann\u202e","last":"Lee"}}`, "traits.name.first"},
		{"zero-width space in a name", `{"email":"` + uniqueEmail("kratos-zw") + `","name":{"first":"Ann","last":"Le\u200be"}}`, "traits.name.last"},
		{"blank name", `{"email":"` + uniqueEmail("kratos-blank") + `","name":{"first":"\u3164"}}`, "traits.name.first"},
		{"bidi override in the email", `{"email":"kratos-\u202e` + uniqueEmail("x") + `"}`, "traits.email"},
		{"combining grapheme joiners in a name", `{"email":"` + uniqueEmail("kratos-cgj") + `","name":{"first":"Bob\u034f\u034f\u034f"}}`, "traits.name.first"},
		{"variation selector on a letter in a name", `{"email":"` + uniqueEmail("kratos-vs") + `","name":{"first":"Ann","last":"Lee\u180b"}}`, "traits.name.last"},
		{"noncharacter in a name", `{"email":"` + uniqueEmail("kratos-nonchar") + `","name":{"first":"Bob\uffff"}}`, "traits.name.first"},
		{"unassigned code point in a name", `{"email":"` + uniqueEmail("kratos-unassigned") + `","name":{"first":"Bob\u0378"}}`, "traits.name.first"},
		{"combining grapheme joiner in the email", `{"email":"kratos-\u034f` + uniqueEmail("x") + `"}`, "traits.email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var flow struct {
				ID string `json:"id"`
			}
			do(t, request{Method: "GET", Path: "/.ory/kratos/self-service/registration/api"}).wantStatus(t, http.StatusOK).decode(t, &flow)
			r := do(t, request{Method: "POST", Path: "/.ory/kratos/self-service/registration?flow=" + flow.ID,
				Body: `{"method":"password","password":"` + goodPassword + `","traits":` + tc.traits + `}`})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"`+tc.field+`"`) {
				t.Fatalf("registration with %s: status %d, want 400 naming %s; body: %.600s", tc.traits, r.Status, tc.field, r.Body)
			}
		})
	}
}

// TestIDs_OneLetterCaseRuleEverywhere: an id is 24 lower-case hex digits in
// every service; the same id in upper case is malformed (400 naming the
// field), not another spelling of it.
func TestIDs_OneLetterCaseRuleEverywhere(t *testing.T) {
	t.Parallel()
	f := newEdgeFixture(t)
	upper := strings.ToUpper
	cases := []struct {
		name  string
		req   request
		field string
	}{
		{"ticket by id", request{Method: "GET", Path: "/api/tickets/" + upper(f.ticket.ID)}, "id"},
		{"order by id", request{Method: "GET", Path: "/api/orders/" + upper(f.order.ID), Token: f.buyer.Token}, "id"},
		{"order of a ticket", request{Method: "POST", Path: "/api/orders", Token: f.buyer.Token, Body: map[string]string{"ticketId": upper(f.ticket.ID)}}, "ticketId"},
		{"payment by id", request{Method: "GET", Path: "/api/payments/" + upper(f.payment.ID), Token: f.buyer.Token}, "id"},
		{"payment of an order", request{Method: "GET", Path: "/api/payments?orderId=" + upper(f.order.ID), Token: f.buyer.Token}, "orderId"},
		{"payment for an order", request{Method: "POST", Path: "/api/payments", Token: f.buyer.Token, Body: map[string]string{"orderId": upper(f.order.ID)}}, "orderId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do(t, tc.req).wantError(t, 400, "validation_failed", tc.field)
		})
	}
}

// TestQuery_DuplicateParametersRefusedEverywhere: a query parameter sent
// twice is refused by every service, naming it, rather than one of its
// values being picked.
func TestQuery_DuplicateParametersRefusedEverywhere(t *testing.T) {
	t.Parallel()
	f := newEdgeFixture(t)
	cases := []struct {
		name  string
		req   request
		field string
	}{
		{"users", request{Method: "GET", Path: "/api/users/current-user?lang=en&lang=fr", Token: f.buyer.Token}, "lang"},
		{"tickets", request{Method: "GET", Path: "/api/tickets?limit=1&limit=2"}, "limit"},
		{"orders", request{Method: "GET", Path: "/api/orders?limit=1&limit=2", Token: f.buyer.Token}, "limit"},
		{"payments", request{Method: "GET", Path: "/api/payments?orderId=" + f.order.ID + "&orderId=" + f.order.ID, Token: f.buyer.Token}, "orderId"},
		{"malformed query string", request{Method: "GET", Path: "/api/tickets?title=%zz"}, "title"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			do(t, tc.req).wantError(t, 400, "validation_failed", tc.field)
		})
	}
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestTrailingSlash_AnswersJSONAndNeverReflectsClientHeaders: a path with
// a trailing slash is a 404 in the JSON shape in every service, not a
// redirect built from the client's X-Forwarded-Prefix or Host.
func TestTrailingSlash_AnswersJSONAndNeverReflectsClientHeaders(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/api/users/current-user/", "/api/tickets/", "/api/orders/", "/api/payments/", "/api/tickets/openapi.json/"} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequest(method, baseURL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = "evil.example"
				req.Header.Set("X-Forwarded-Prefix", "//evil.example")
				req.Header.Set("X-Forwarded-Host", "evil.example")
				r := sendWith(t, noRedirects, req)
				if loc := r.Header.Get("Location"); loc != "" {
					t.Fatalf("redirected to %q", loc)
				}
				r.wantError(t, http.StatusNotFound, "not_found", "")
			})
		}
	}
}

// TestHost_ForeignHostNeverReflected: a client's Host, X-Forwarded-Host or
// X-Forwarded-Prefix never shows up in what it gets back (OpenAPI servers,
// Kratos' redirects and flow URLs).
func TestHost_ForeignHostNeverReflected(t *testing.T) {
	t.Parallel()
	paths := []string{
		"/api/users/openapi.json", "/api/tickets/openapi.json", "/api/orders/openapi.json", "/api/payments/openapi.json",
		"/.ory/kratos/self-service/login/browser", "/.ory/kratos/self-service/registration/api",
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest("GET", baseURL()+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Prefix", "/evil-prefix")
			r := sendWith(t, noRedirects, req)
			if r.Status >= 400 {
				t.Fatalf("status %d: %.300s", r.Status, r.Body)
			}
			all := fmt.Sprint(r.Header) + string(r.Body)
			for _, foreign := range []string{"evil.example", "evil-prefix"} {
				if strings.Contains(all, foreign) {
					t.Fatalf("the answer reflects %q: %v %.600s", foreign, r.Header, r.Body)
				}
			}
		})
	}
}

// TestHost_AbsoluteRequestURINeverReflected: an absolute request URI sets
// nginx's $host; its host must not reach Kratos either.
func TestHost_AbsoluteRequestURINeverReflected(t *testing.T) {
	t.Parallel()
	r := rawExchange(t, "GET", []byte("GET http://evil.example/.ory/kratos/self-service/registration/api HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"))
	r.wantStatus(t, http.StatusOK)
	if strings.Contains(string(r.Body), "evil.example") {
		t.Fatalf("the answer reflects the request URI's host: %.600s", r.Body)
	}
}

// TestHEAD_AnswersLikeGETWithoutBody: HEAD is GET without the body, in
// every service: same status and headers, no body.
func TestHEAD_AnswersLikeGETWithoutBody(t *testing.T) {
	t.Parallel()
	f := newEdgeFixture(t)
	cases := []request{
		{Path: "/api/users/current-user", Token: f.buyer.Token},
		{Path: "/api/users/openapi.json"},
		{Path: "/api/tickets"},
		{Path: "/api/tickets/" + f.ticket.ID},
		{Path: "/api/orders/" + f.order.ID, Token: f.buyer.Token},
		{Path: "/api/payments/" + f.payment.ID, Token: f.buyer.Token},
		{Path: "/api/payments/" + f.payment.ID},
	}
	for _, req := range cases {
		t.Run(req.Path, func(t *testing.T) {
			t.Parallel()
			req.Method = "GET"
			get := do(t, req)
			req.Method = "HEAD"
			head := do(t, req)
			if head.Status != get.Status {
				t.Fatalf("HEAD %d, GET %d", head.Status, get.Status)
			}
			if len(head.Body) != 0 {
				t.Fatalf("HEAD answered a body: %s", head.Body)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options"} {
				if head.Header.Get(h) != get.Header.Get(h) {
					t.Errorf("%s: HEAD %q, GET %q", h, head.Header.Get(h), get.Header.Get(h))
				}
			}
		})
	}
}
