package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/httpserver"
)

// admitted serves GET /work behind Admit(limit, wait); each request holds
// its turn until release is closed, and the most running at once is kept.
func admitted(limit int, wait time.Duration, release <-chan struct{}) (http.Handler, *atomic.Int32) {
	var running, most atomic.Int32
	e := gin.New()
	e.Use(httpserver.Admit(limit, wait))
	work := func(c *gin.Context) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		running.Add(-1)
		c.Status(http.StatusNoContent)
	}
	e.GET("/work", work)
	e.POST("/work", work)
	e.GET("/quick", func(c *gin.Context) { c.Status(http.StatusOK) })
	return e, &most
}

func TestAdmit_RunsAtMostLimitAndServesTheRestInTurn(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h, most := admitted(2, 10*time.Second, release)
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/work", nil))
			codes[i] = rec.Code
		}()
	}
	time.Sleep(100 * time.Millisecond) // let all six arrive
	close(release)
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusNoContent {
			t.Errorf("request %d: %d, want every request served", i, code)
		}
	}
	if m := most.Load(); m != 2 {
		t.Errorf("%d ran at once, want the limit, 2", m)
	}
}

func TestAdmit_WaitTooLongIs503Overloaded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	h, _ := admitted(1, 50*time.Millisecond, release)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/work", nil))
	time.Sleep(20 * time.Millisecond) // the first holds the only turn
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/work", nil))
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || body.Error.Code != "overloaded" || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %s Retry-After %q, want 503 overloaded with Retry-After", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
}

func TestAdmit_ReadsDoNotWaitBehindWrites(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	h, _ := admitted(1, 50*time.Millisecond, release)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/work", nil))
	time.Sleep(20 * time.Millisecond) // the write holds the only write turn
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/quick", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("a read behind a busy write line answered %d %s, want 200", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/work", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a second write answered %d, want 503 after waiting its turn too long", rec.Code)
	}
}
