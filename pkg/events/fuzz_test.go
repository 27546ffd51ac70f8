package events

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the consumer's decoding path: it must
// never panic, and whatever it accepts must be a well-formed envelope whose
// payload either validates or is ErrMalformed — never another error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"order.created.v1","occurredAt":"2026-01-01T00:00:00Z","data":{"id":"656565656565656565656565","userId":"u","status":"created","expiresAt":"2026-01-01T00:15:00Z","ticket":{"id":"757575757575757575757575","title":"t","price":1,"currency":"eur","userId":"s","version":0},"version":0}}`))
	f.Add([]byte(`{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"ticket.updated.v1","data":{"id":"656565656565656565656565","title":"x","price":-1}}`))
	f.Add([]byte(`{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"expiration.completed.v1","data":{"orderId":"656565656565656565656565"}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error is not ErrMalformed: %v", err)
			}
			return
		}
		if e.ID == "" || e.Type == "" || len(e.Data) == 0 {
			t.Fatalf("accepted an incomplete envelope: %+v", e)
		}
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeData error is not ErrMalformed: %v", err)
			}
		}
		_, err = DecodeData[Order](e)
		check(err)
		_, err = DecodeData[Ticket](e)
		check(err)
		_, err = DecodeData[Payment](e)
		check(err)
		_, err = DecodeData[Expiration](e)
		check(err)
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("an accepted envelope does not encode again: %v", err)
		}
	})
}
