package keto_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/keto"
)

const userID = "c83b8787-610a-44c0-a9c2-b96ba98e4ad5"

// recorded is one request a Keto stand-in received.
type recorded struct {
	method, path, contentType string
	body                      any
}

// standIn records requests and answers with status and body. It is a
// unit-test stand-in for the calling code, not a model of Keto.
type standIn struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	body     string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.body)
}

func newClient(t *testing.T, read, write http.Handler) *keto.Client {
	t.Helper()
	readSrv, writeSrv := httptest.NewServer(read), httptest.NewServer(write)
	t.Cleanup(readSrv.Close)
	t.Cleanup(writeSrv.Close)
	c, err := keto.New(keto.Config{ReadURL: readSrv.URL, WriteURL: writeSrv.URL}, httpclient.New(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheck_SendsSubjectSetToReadAPI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject keto.Subject
		answer  string
		want    bool
		wantReq string
	}{
		{
			name: "user allowed", subject: keto.User(userID), answer: `{"allowed":true}`, want: true,
			wantReq: `{"namespace":"Ticket","object":"t1","relation":"edit","subject_set":{"namespace":"User","object":"` + userID + `","relation":""}}`,
		},
		{
			name: "admins denied", subject: keto.AdminGroup(), answer: `{"allowed":false}`, want: false,
			wantReq: `{"namespace":"Ticket","object":"t1","relation":"edit","subject_set":{"namespace":"Group","object":"admin","relation":"members"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			read := &standIn{status: http.StatusOK, body: tt.answer}
			write := &standIn{status: http.StatusTeapot}
			c := newClient(t, read, write)
			got, err := c.Check(context.Background(), "Ticket", "t1", "edit", tt.subject)
			if err != nil || got != tt.want {
				t.Fatalf("Check() = %v, %v; want %v", got, err, tt.want)
			}
			if len(read.requests) != 1 || len(write.requests) != 0 {
				t.Fatalf("read got %d requests, write %d", len(read.requests), len(write.requests))
			}
			r := read.requests[0]
			if r.method != http.MethodPost || r.path != "/relation-tuples/check/openapi" || r.contentType != "application/json" {
				t.Errorf("request %s %s (%s)", r.method, r.path, r.contentType)
			}
			if got := asJSON(t, r.body); got != tt.wantReq {
				t.Errorf("body %s\nwant %s", got, tt.wantReq)
			}
		})
	}
}

func TestWriteAndDeleteTuples_OnePatchForTheBatch(t *testing.T) {
	t.Parallel()
	tuples := []keto.Tuple{
		{Namespace: "Ticket", Object: "t1", Relation: "owners", Subject: keto.User(userID)},
		{Namespace: "Ticket", Object: "t1", Relation: "admins", Subject: keto.AdminGroup()},
	}
	tests := []struct {
		name   string
		call   func(*keto.Client) error
		action string
	}{
		{"write", func(c *keto.Client) error { return c.WriteTuples(context.Background(), tuples...) }, "insert"},
		{"delete", func(c *keto.Client) error { return c.DeleteTuples(context.Background(), tuples...) }, "delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			read := &standIn{status: http.StatusTeapot}
			write := &standIn{status: http.StatusNoContent}
			c := newClient(t, read, write)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if len(write.requests) != 1 || len(read.requests) != 0 {
				t.Fatalf("write got %d requests, read %d; want one PATCH", len(write.requests), len(read.requests))
			}
			r := write.requests[0]
			if r.method != http.MethodPatch || r.path != "/admin/relation-tuples" {
				t.Errorf("request %s %s", r.method, r.path)
			}
			want := `[{"action":"` + tt.action + `","relation_tuple":{"namespace":"Ticket","object":"t1","relation":"owners","subject_set":{"namespace":"User","object":"` + userID + `","relation":""}}},` +
				`{"action":"` + tt.action + `","relation_tuple":{"namespace":"Ticket","object":"t1","relation":"admins","subject_set":{"namespace":"Group","object":"admin","relation":"members"}}}]`
			if got := asJSON(t, r.body); got != want {
				t.Errorf("body %s\nwant %s", got, want)
			}
		})
	}
}

func TestWriteTuples_NothingToWriteMakesNoCall(t *testing.T) {
	t.Parallel()
	write := &standIn{status: http.StatusNoContent}
	c := newClient(t, &standIn{}, write)
	if err := c.WriteTuples(context.Background()); err != nil || len(write.requests) != 0 {
		t.Errorf("err %v, %d requests", err, len(write.requests))
	}
}

func TestCalls_MapKetoFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int
	}{
		{"server error", http.StatusInternalServerError, `{"error":{"code":500,"message":"db down"}}`, http.StatusServiceUnavailable},
		{"bad gateway with html", http.StatusBadGateway, `<html>bad gateway</html>`, http.StatusServiceUnavailable},
		{"bad request is our bug", http.StatusBadRequest, `{"error":{"code":400,"message":"invalid tuple"}}`, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &standIn{status: tt.status, body: tt.body}
			c := newClient(t, s, s)
			_, checkErr := c.Check(context.Background(), "Ticket", "t1", "edit", keto.User(userID))
			writeErr := c.WriteTuples(context.Background(), keto.Tuple{Namespace: "Ticket", Object: "t1", Relation: "owners", Subject: keto.User(userID)})
			for _, err := range []error{checkErr, writeErr} {
				if got := apierr.Status(err); got != tt.wantStatus {
					t.Errorf("status %d (%v), want %d", got, err, tt.wantStatus)
				}
			}
		})
	}
}

func TestCalls_KetoUnreachableIs503NamingKeto(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := keto.New(keto.Config{ReadURL: srv.URL, WriteURL: srv.URL}, httpclient.New(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, checkErr := c.Check(context.Background(), "Ticket", "t1", "edit", keto.User(userID))
	writeErr := c.DeleteTuples(context.Background(), keto.Tuple{Namespace: "Ticket", Object: "t1", Relation: "owners", Subject: keto.User(userID)})
	readyErr := c.Ready(context.Background())
	for _, err := range []error{checkErr, writeErr, readyErr} {
		e, ok := apierr.As(err)
		if !ok || e.Kind != apierr.KindUnavailable || !strings.Contains(e.Message, "Keto") {
			t.Errorf("error = %v, want 503 naming Keto", err)
		}
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		wantErr bool
	}{
		{"ready", http.StatusOK, false},
		{"not ready", http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			read := &standIn{status: tt.status, body: `{"status":"ok"}`}
			c := newClient(t, read, &standIn{})
			err := c.Ready(context.Background())
			if (err != nil) != tt.wantErr {
				t.Errorf("Ready() = %v", err)
			}
			if read.requests[0].path != "/health/ready" {
				t.Errorf("path %s", read.requests[0].path)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{keto.User(userID).String(), "User:" + userID},
		{keto.AdminGroup().String(), "Group:admin#members"},
		{keto.Tuple{Namespace: "Ticket", Object: "t1", Relation: "admins", Subject: keto.AdminGroup()}.String(), "Ticket:t1#admins@Group:admin#members"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
