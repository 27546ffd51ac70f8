package httpclient_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/httpclient"
)

func TestNew_BoundsCallsAndDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(http.ResponseWriter, *http.Request) {
		time.Sleep(500 * time.Millisecond)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := httpclient.New(100 * time.Millisecond)

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantErr    bool
	}{
		{"redirect is returned, not followed", "/redirect", http.StatusFound, false},
		{"slow answer times out", "/slow", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := client.Get(srv.URL + tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
				}
			}
		})
	}
}
