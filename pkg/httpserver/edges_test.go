package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

func TestEngine_OneRuleForPathsAndQueries(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger())
	e.GET("/api/things", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	e.POST("/api/things", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantCode   string
		wantFields []apierr.FieldError
	}{
		{"route", "GET", "/api/things?limit=1&title=a+b", http.StatusOK, "", nil},
		{"empty pairs are nothing", "GET", "/api/things?&limit=1&", http.StatusOK, "", nil},
		{"trailing slash", "GET", "/api/things/", http.StatusNotFound, "not_found", nil},
		{"trailing slash on a write", "POST", "/api/things/", http.StatusNotFound, "not_found", nil},
		{"other letter case", "GET", "/API/Things", http.StatusNotFound, "not_found", nil},
		{"parameter twice", "GET", "/api/things?limit=1&limit=2", http.StatusBadRequest, "validation_failed",
			[]apierr.FieldError{apierr.Field("limit", "must be given at most once")}},
		{"parameter twice, encoded differently", "GET", "/api/things?limit=1&%6cimit=2", http.StatusBadRequest, "validation_failed",
			[]apierr.FieldError{apierr.Field("limit", "must be given at most once")}},
		{"parameter twice on a write", "POST", "/api/things?x=&x=", http.StatusBadRequest, "validation_failed",
			[]apierr.FieldError{apierr.Field("x", "must be given at most once")}},
		{"bad percent-encoding", "GET", "/api/things?title=%zz", http.StatusBadRequest, "validation_failed",
			[]apierr.FieldError{apierr.Field("title", "is not a well-formed query parameter (percent-encode %, ; and &)")}},
		{"semicolon separator", "GET", "/api/things?limit=1;limit=2", http.StatusBadRequest, "validation_failed",
			[]apierr.FieldError{apierr.Field("limit", "is not a well-formed query parameter (percent-encode %, ; and &)")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.target, nil)
			req.Header.Set("X-Forwarded-Prefix", "//evil.example")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Errorf("Location %q", loc)
			}
			if tt.wantCode == "" {
				return
			}
			got := decodeError(t, rec)
			if got.Error.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", got.Error.Code, tt.wantCode)
			}
			if tt.wantFields != nil && !equalFields(got.Error.Fields, tt.wantFields) {
				t.Errorf("fields = %+v, want %+v", got.Error.Fields, tt.wantFields)
			}
		})
	}
}

func TestEngine_AllowNamesHEADBesideGET(t *testing.T) {
	t.Parallel()
	e := httpserver.New(discardLogger())
	e.GET("/api/things", func(c *gin.Context) { c.Status(http.StatusOK) })
	e.POST("/api/things", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	e.POST("/api/actions", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for target, want := range map[string]string{"/api/things": "GET, POST, HEAD", "/api/actions": "POST"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, target, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != want {
			t.Errorf("DELETE %s: %d, Allow %q; want 405, Allow %q", target, rec.Code, rec.Header().Get("Allow"), want)
		}
	}
}
