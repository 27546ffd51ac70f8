package httpserver_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzBindJSON: whatever body a client sends, binding answers 204 (bound)
// or a 4xx in the project's error shape — never a 500 or a panic.
func FuzzBindJSON(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Concert","price":2500,"name":{"first":"A"},"tags":["x"]}`,
		`{"title":"x","price":1.5}`,
		`{"price":"12"}`,
		`{"unknown":true}`,
		`{"title":"a"} {"title":"b"}`,
		`{"name":{"first":{"deep":[[[[[]]]]]}}}`,
		`{"title":"\u0000\ud800"}`,
		``,
		`null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec, _ := bind(t, jsonRequest(body))
		if rec.Code == http.StatusNoContent {
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("body %q: status %d, want 204 or a 4xx", body, rec.Code)
		}
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("body %q: answer is not the error shape: %s", body, rec.Body)
		}
	})
}
