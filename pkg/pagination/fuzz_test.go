package pagination

import (
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// FuzzParse: any limit and cursor a client sends is either accepted as a
// page within bounds or refused with a 400 naming the field — never a panic,
// and never a cursor the server did not issue.
func FuzzParse(f *testing.F) {
	s := NewSigner("fuzz-secret")
	issued := *s.Next(Page{Limit: 1}, 1, "656565656565656565656565", "tickets")
	f.Add("20", issued)
	f.Add("", "")
	f.Add("0", "not-a-cursor")
	f.Add("100", issued+"A")
	f.Add("-1", "eyJhIjoiMSIsInMiOiJ0aWNrZXRzIn0")
	f.Fuzz(func(t *testing.T, limit, cursor string) {
		p, err := s.Parse(limit, cursor, "tickets")
		if err != nil {
			e, ok := apierr.As(err)
			if !ok || e.Kind != apierr.KindInvalid || len(e.Fields) != 1 {
				t.Fatalf("refusal is not a 400 naming one field: %v", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > MaxLimit {
			t.Fatalf("accepted limit %d", p.Limit)
		}
		if cursor != "" && cursor != issued {
			// Only a cursor with a valid MAC is accepted; equal bytes under
			// another encoding cannot occur with raw URL base64.
			t.Fatalf("accepted a cursor the server never issued: %q", cursor)
		}
	})
}
