package httpserver_test

import (
	"net/http"
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

func TestMediaType_OneMediaTypeReadStrictly(t *testing.T) {
	t.Parallel()
	const js, form = "application/json", "application/x-www-form-urlencoded"
	tests := []struct {
		name         string
		contentTypes []string
		encoding     string
		want         string // "" when refused with 415
	}{
		{"JSON", []string{"application/json"}, "", js},
		{"letter case and UTF-8 named", []string{"Application/JSON; charset=UTF-8"}, "", js},
		{"form", []string{"application/x-www-form-urlencoded"}, "", form},
		{"identity encoding", []string{"application/json"}, "identity", js},
		{"a form and JSON in one line", []string{"application/x-www-form-urlencoded; a=b,application/json"}, "", ""},
		{"a list", []string{"application/json, text/plain"}, "", ""},
		{"two lines", []string{"application/x-www-form-urlencoded", "application/json"}, "", ""},
		{"none", nil, "", ""},
		{"a parameter without a value", []string{"application/json; charset"}, "", ""},
		{"a parameter twice, two values", []string{"application/json; charset=utf-8; charset=latin1"}, "", ""},
		{"another charset", []string{"application/json; charset=iso-8859-1"}, "", ""},
		{"another type", []string{"text/plain"}, "", ""},
		{"multipart", []string{"multipart/form-data; boundary=x"}, "", ""},
		{"compressed", []string{"application/json"}, "gzip", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, ct := range tt.contentTypes {
				h.Add("Content-Type", ct)
			}
			if tt.encoding != "" {
				h.Set("Content-Encoding", tt.encoding)
			}
			got, err := httpserver.MediaType(h, js, form)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("MediaType = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || apierr.Status(err) != http.StatusUnsupportedMediaType {
				t.Fatalf("MediaType = %q, %v; want a 415", got, err)
			}
		})
	}
}

func TestCheckJSONObject_RefusesWhatBindJSONRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"object", `{"a":{"b":"c"},"d":[1,2]}`, true},
		{"not an object", `["a"]`, false},
		{"byte order mark", "\ufeff{}", false},
		{"trailing data", `{} {}`, false},
		{"nested duplicate key", `{"a":{"b":"c","b":"c"}}`, false},
		{"not UTF-8", "{\"a\":\"\xff\"}", false},
		{"lone surrogate", `{"a":"\ud800"}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := httpserver.CheckJSONObject([]byte(tt.body))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && (err == nil || apierr.Status(err) != http.StatusBadRequest):
				t.Fatalf("got %v, want a 400", err)
			}
		})
	}
}
