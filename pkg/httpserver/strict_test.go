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

func TestBindJSON_StrictRules(t *testing.T) {
	t.Parallel()
	withHeader := func(body, name, value string) func() *http.Request {
		return func() *http.Request {
			r := jsonRequest(body)
			r.Header.Set(name, value)
			return r
		}
	}
	body := func(b string) func() *http.Request { return func() *http.Request { return jsonRequest(b) } }
	field := func(name, message string) []apierr.FieldError {
		return []apierr.FieldError{apierr.Field(name, message)}
	}
	tests := []bindCase{
		{name: "valid body", req: body(`{"title":"Concert","price":2500,"name":{"first":"A"},"tags":["x","y"]}`), wantStatus: http.StatusNoContent},
		{name: "same key in two objects", req: body(`{"title":"x","name":{"title":"y"}}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("name.title", "unknown field")},
		{name: "escaped characters and a surrogate pair", req: body(`{"title":"a\\\"\ud83c\udfb5\u00e9"}`), wantStatus: http.StatusNoContent},
		{name: "escaped backslash before u", req: body(`{"title":"\\ud800"}`), wantStatus: http.StatusNoContent},
		{name: "duplicate key", req: body(`{"title":"a","price":1,"title":"b"}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("title", "is given more than once")},
		{name: "duplicate nested key", req: body(`{"name":{"first":"a","first":"b"}}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("name.first", "is given more than once")},
		{name: "key in another case", req: body(`{"Title":"a"}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("Title", `unknown field; keys are case-sensitive, did you mean "title"?`)},
		{name: "nested key in another case", req: body(`{"name":{"FIRST":"a"}}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("name.FIRST", `unknown field; keys are case-sensitive, did you mean "first"?`)},
		{name: "Kelvin sign folding to k", req: body("{\"tags\":[],\"titl\u212a\":1}"), wantStatus: http.StatusBadRequest, wantCode: "validation_failed"},
		{name: "invalid UTF-8 in a value", req: body("{\"title\":\"a\xffb\"}"), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("title", "must be valid UTF-8 text")},
		{name: "invalid UTF-8 in an array", req: body("{\"tags\":[\"ok\",\"\xc3\"]}"), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("tags", "must be valid UTF-8 text")},
		{name: "invalid UTF-8 in a key", req: body("{\"ti\xfftle\":\"a\"}"), wantStatus: http.StatusBadRequest, wantCode: "validation_failed",
			wantFields: field("ti\ufffdtle", "must be valid UTF-8 text")},
		{name: "lone high surrogate", req: body(`{"title":"a\ud800b"}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed", wantFields: field("title", "must be valid Unicode text (a \\u escape is half of a surrogate pair)")},
		{name: "lone low surrogate", req: body(`{"name":{"first":"\udc00"}}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed", wantFields: field("name.first", "must be valid Unicode text (a \\u escape is half of a surrogate pair)")},
		{name: "high surrogate at the end", req: body(`{"title":"\ud83c"}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed"},
		{name: "deep nesting", req: body(`{"tags":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), wantStatus: http.StatusBadRequest, wantCode: "malformed_json", wantInMsg: "nest"},
		{name: "very deep nesting", req: body(`{"tags":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`), wantStatus: http.StatusBadRequest, wantCode: "malformed_json"},
		{name: "integer as 1e400", req: body(`{"price":1e400}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed", wantFields: field("price", "must be an integer")},
		{name: "integer as 2500.0", req: body(`{"price":2500.0}`), wantStatus: http.StatusBadRequest, wantCode: "validation_failed", wantFields: field("price", "must be an integer")},
		{name: "charset utf-8 in capitals", req: withHeader(`{"title":"x"}`, "Content-Type", "application/json; charset=UTF-8"), wantStatus: http.StatusNoContent},
		{name: "charset latin1", req: withHeader(`{"title":"x"}`, "Content-Type", "application/json; charset=latin1"), wantStatus: http.StatusUnsupportedMediaType, wantCode: "unsupported_media_type", wantInMsg: "latin1"},
		{name: "charset utf-16", req: withHeader(`{"title":"x"}`, "Content-Type", "application/json; charset=utf-16"), wantStatus: http.StatusUnsupportedMediaType, wantCode: "unsupported_media_type"},
		{name: "identity encoding", req: withHeader(`{"title":"x"}`, "Content-Encoding", "identity"), wantStatus: http.StatusNoContent},
		{name: "gzip encoding", req: withHeader(`{"title":"x"}`, "Content-Encoding", "gzip"), wantStatus: http.StatusUnsupportedMediaType, wantCode: "unsupported_media_type", wantInMsg: "gzip"},
		{name: "encodings listed", req: withHeader(`{"title":"x"}`, "Content-Encoding", "identity, br"), wantStatus: http.StatusUnsupportedMediaType, wantCode: "unsupported_media_type", wantInMsg: "br"},
	}
	runBindCases(t, tests)
}

// lenientBody decodes itself, leniently, as auth's web hook body does.
type lenientBody struct {
	ID string `json:"id"`
}

func (b *lenientBody) UnmarshalJSON(raw []byte) error {
	type plain lenientBody
	return json.Unmarshal(raw, (*plain)(b))
}

func bindInto(t *testing.T, req *http.Request, dst any) *httptest.ResponseRecorder {
	t.Helper()
	e := httpserver.New(discardLogger())
	e.POST("/t", func(c *gin.Context) {
		if err := httpserver.BindJSON(c, dst); err != nil {
			httpserver.WriteError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// A type with its own UnmarshalJSON keeps its leniency for unknown keys and
// letter case; a key twice is still refused.
func TestBindJSON_StrictRulesAroundCustomDecoders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"ID":"a","extra":1}`, http.StatusNoContent},
		{`{"id":"a","id":"b"}`, http.StatusBadRequest},
	} {
		rec := bindInto(t, jsonRequest(tc.body), new(lenientBody))
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.body, rec.Code, tc.want, rec.Body)
		}
	}
}

func TestBindJSON_TrailingValueIsTrailingData(t *testing.T) {
	t.Parallel()
	rec, _ := bind(t, jsonRequest(`{"title":"a"} {"title":"b","title":"c"}`))
	if got := decodeError(t, rec); rec.Code != http.StatusBadRequest || got.Error.Code != "malformed_json" {
		t.Fatalf("status %d, error %+v; want 400 malformed_json", rec.Code, got.Error)
	}
}
