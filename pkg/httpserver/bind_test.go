package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

type ticketBody struct {
	Title string `json:"title"`
	Price int    `json:"price"`
	Name  struct {
		First string `json:"first"`
	} `json:"name"`
	Tags []string `json:"tags"`
}

// bind runs BindJSON on a request and answers like a handler would.
func bind(t *testing.T, req *http.Request) (*httptest.ResponseRecorder, ticketBody) {
	t.Helper()
	var dst ticketBody
	e := httpserver.New(discardLogger())
	e.POST("/t", func(c *gin.Context) {
		if err := httpserver.BindJSON(c, &dst); err != nil {
			httpserver.WriteError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec, dst
}

func jsonRequest(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/t", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestBindJSON_EnforcesBodyRules(t *testing.T) {
	t.Parallel()
	tests := []bindCase{
		{
			name:       "valid body",
			req:        func() *http.Request { return jsonRequest(`{"title":"Concert","price":2500,"name":{"first":"A"}}`) },
			wantStatus: http.StatusNoContent,
		},
		{
			name: "charset parameter is fine",
			req: func() *http.Request {
				r := jsonRequest(`{"title":"x"}`)
				r.Header.Set("Content-Type", "application/json; charset=utf-8")
				return r
			},
			wantStatus: http.StatusNoContent,
		},
		{
			name:       "surrounding white space is fine",
			req:        func() *http.Request { return jsonRequest(" \n{\"title\":\"x\"}\n ") },
			wantStatus: http.StatusNoContent,
		},
		{
			name: "no content type",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/t", strings.NewReader(`{"title":"x"}`))
			},
			wantStatus: http.StatusUnsupportedMediaType,
			wantCode:   "unsupported_media_type",
		},
		{
			name: "form content type",
			req: func() *http.Request {
				r := jsonRequest(`title=x`)
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			wantStatus: http.StatusUnsupportedMediaType,
			wantCode:   "unsupported_media_type",
		},
		{
			name: "body over 1 MiB",
			req: func() *http.Request {
				return jsonRequest(`{"title":"` + strings.Repeat("a", httpserver.MaxBodyBytes) + `"}`)
			},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantCode:   "body_too_large",
		},
		{
			name: "body over 1 MiB without a length",
			req: func() *http.Request {
				r := jsonRequest(`{"title":"` + strings.Repeat("a", httpserver.MaxBodyBytes) + `"}`)
				r.ContentLength = -1
				return r
			},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantCode:   "body_too_large",
		},
		{
			name:       "empty body",
			req:        func() *http.Request { return jsonRequest(``) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "empty_body",
		},
		{
			name: "empty body without content type",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/t", nil)
			},
			wantStatus: http.StatusBadRequest,
			wantCode:   "empty_body",
		},
		{
			name:       "white space only",
			req:        func() *http.Request { return jsonRequest("  \n ") },
			wantStatus: http.StatusBadRequest,
			wantCode:   "empty_body",
		},
		{
			name:       "malformed JSON",
			req:        func() *http.Request { return jsonRequest(`{"title":}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
			wantInMsg:  "invalid character",
		},
		{
			name:       "truncated JSON",
			req:        func() *http.Request { return jsonRequest(`{"title":"x"`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
		},
		{
			name:       "not JSON at all",
			req:        func() *http.Request { return jsonRequest(`hello`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
		},
		{
			name:       "trailing data",
			req:        func() *http.Request { return jsonRequest(`{"title":"x"} {"title":"y"}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
			wantInMsg:  "nothing after it",
		},
		{
			name:       "trailing garbage",
			req:        func() *http.Request { return jsonRequest(`{"title":"x"}}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
		},
		{
			name:       "array instead of object",
			req:        func() *http.Request { return jsonRequest(`[1,2]`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
			wantInMsg:  "must be a JSON object",
		},
		{
			name:       "null",
			req:        func() *http.Request { return jsonRequest(`null`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "malformed_json",
		},
		{
			name:       "unknown field",
			req:        func() *http.Request { return jsonRequest(`{"title":"x","admin":true}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "admin", Message: "unknown field"}},
		},
		{
			name:       "string where an integer is expected",
			req:        func() *http.Request { return jsonRequest(`{"price":"25"}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "price", Message: "must be an integer"}},
		},
		{
			name:       "fraction where an integer is expected",
			req:        func() *http.Request { return jsonRequest(`{"price":12.5}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "price", Message: "must be an integer"}},
		},
		{
			name:       "nested wrong type names the path",
			req:        func() *http.Request { return jsonRequest(`{"name":{"first":7}}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "name.first", Message: "must be a string"}},
		},
		{
			name:       "object where a string is expected",
			req:        func() *http.Request { return jsonRequest(`{"title":{}}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "title", Message: "must be a string"}},
		},
		{
			name:       "string where an array is expected",
			req:        func() *http.Request { return jsonRequest(`{"tags":"a"}`) },
			wantStatus: http.StatusBadRequest,
			wantCode:   "validation_failed",
			wantFields: []apierr.FieldError{{Field: "tags", Message: "must be an array"}},
		},
	}
	runBindCases(t, tests)
}

func TestBindJSON_FillsDestination(t *testing.T) {
	t.Parallel()
	_, got := bind(t, jsonRequest(`{"title":"Concert","price":2500,"name":{"first":"Ann"},"tags":["a"]}`))
	if got.Title != "Concert" || got.Price != 2500 || got.Name.First != "Ann" || len(got.Tags) != 1 {
		t.Errorf("decoded %+v", got)
	}
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) apierr.Body {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var body apierr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %q", rec.Body)
	}
	return body
}

func equalFields(a, b []apierr.FieldError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// bindCase is a request BindJSON must answer with wantStatus and, for an
// error, wantCode, wantInMsg in its message and, when set, wantFields.
type bindCase struct {
	name       string
	req        func() *http.Request
	wantStatus int
	wantCode   string
	wantFields []apierr.FieldError
	wantInMsg  string
}

// runBindCases runs each case, in parallel, through bind.
func runBindCases(t *testing.T, tests []bindCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, _ := bind(t, tt.req())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantCode == "" {
				return
			}
			got := decodeError(t, rec)
			if got.Error.Code != tt.wantCode || !strings.Contains(got.Error.Message, tt.wantInMsg) {
				t.Errorf("error = %+v, want code %q with %q in its message", got.Error, tt.wantCode, tt.wantInMsg)
			}
			if tt.wantFields != nil && !equalFields(got.Error.Fields, tt.wantFields) {
				t.Errorf("fields = %+v, want %+v", got.Error.Fields, tt.wantFields)
			}
		})
	}
}
