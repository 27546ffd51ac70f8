package ports_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/ports"
)

// TestOpenAPI_DocumentsEveryRouteAndNothingElse keeps the embedded
// document honest: every route the port registers is documented, and
// every documented operation is routed.
func TestOpenAPI_DocumentsEveryRouteAndNothingElse(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rec := s.do(call{method: "GET", path: "/api/tickets/openapi.json"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}

	engine := gin.New()
	ports.NewHTTPServer(app.Application{}, fakeSessions{}, pagination.NewSigner("x")).Register(engine)
	param := regexp.MustCompile(`:(\w+)`)
	routed := map[string]bool{}
	for _, r := range engine.Routes() {
		routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	for op := range routed {
		if !documented[op] {
			t.Errorf("%s is routed but not documented", op)
		}
	}
	for op := range documented {
		if !routed[op] {
			t.Errorf("%s is documented but not routed", op)
		}
	}
}
