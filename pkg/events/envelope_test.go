package events

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode_RejectsMalformedEnvelopes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
	}{
		{"not JSON", `{"id":`, "unexpected end"},
		{"id not a UUID", `{"id":"1","type":"ticket.created.v1","data":{}}`, "not a UUID"},
		{"no type", `{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","data":{}}`, "no type"},
		{"no data", `{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"ticket.created.v1"}`, "no data"},
		{"null data", `{"id":"9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"ticket.created.v1","data":null}`, "no data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.body))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNewDecode_RoundTrip(t *testing.T) {
	t.Parallel()
	in := Ticket{ID: "656565656565656565656565", Title: "Opera", Price: 0, Currency: "eur", UserID: "u", Status: "available", Version: 7}
	e, err := New(TicketCreated, in, Meta{CorrelationID: "c", Traceparent: "00-abc-def-01"})
	if err != nil {
		t.Fatal(err)
	}
	raw := mustJSON(t, e)
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeData[Ticket](back)
	if err != nil {
		t.Fatal(err)
	}
	if out != in || back.CorrelationID != "c" || back.Traceparent != "00-abc-def-01" || back.Type != TicketCreated {
		t.Fatalf("round trip changed the event: %+v %+v", back, out)
	}
}

func TestDecodeData_ValidatesPayloads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		typ  Name
		data string
		want string // "" = valid
	}{
		{"valid ticket", TicketUpdated, `{"id":"656565656565656565656565","title":"t","price":1,"currency":"eur","userId":"u","status":"reserved","orderId":"757575757575757575757575","version":2}`, ""},
		{"ticket with bad status", TicketUpdated, `{"id":"656565656565656565656565","title":"t","price":1,"currency":"eur","userId":"u","status":"lost","version":2}`, "status"},
		{"ticket with negative price", TicketUpdated, `{"id":"656565656565656565656565","title":"t","price":-1,"currency":"eur","userId":"u","status":"available","version":2}`, "price"},
		{"ticket with price of wrong type", TicketUpdated, `{"id":"656565656565656565656565","title":"t","price":"1","currency":"eur","userId":"u","status":"available","version":2}`, "price"},
		{"order without expiry", OrderCreated, `{"id":"656565656565656565656565","userId":"u","status":"created","ticket":{"id":"757575757575757575757575","title":"t","price":1,"currency":"eur","userId":"s","version":0},"version":0}`, "expiresAt"},
		{"valid order", OrderCreated, `{"id":"656565656565656565656565","userId":"u","status":"created","expiresAt":"2026-01-01T00:00:00Z","ticket":{"id":"757575757575757575757575","title":"t","price":1,"currency":"eur","userId":"s","version":0},"version":0}`, ""},
		{"expiration with bad id", ExpirationCompleted, `{"orderId":"xyz"}`, "orderId"},
		{"payment with unknown currency shape", PaymentSucceeded, `{"id":"656565656565656565656565","orderId":"757575757575757575757575","userId":"u","amount":5,"currency":"EURO","status":"succeeded","version":1}`, "currency"},
		{"newer producer's extra field is accepted", ExpirationCompleted, `{"orderId":"656565656565656565656565","reason":"window"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := Envelope{ID: "9b2f4a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", Type: tc.typ, Data: []byte(tc.data)}
			var err error
			switch tc.typ {
			case TicketUpdated:
				_, err = DecodeData[Ticket](e)
			case OrderCreated:
				_, err = DecodeData[Order](e)
			case ExpirationCompleted:
				_, err = DecodeData[Expiration](e)
			case PaymentSucceeded:
				_, err = DecodeData[Payment](e)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid payload rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrMalformed naming %q", err, tc.want)
			}
		})
	}
}

func TestNames_AreVersionedAndUnique(t *testing.T) {
	t.Parallel()
	seen := map[Name]bool{}
	for _, n := range Names {
		parts := strings.Split(string(n), ".")
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "v") {
			t.Errorf("%s is not aggregate.event.vN", n)
		}
		if seen[n] {
			t.Errorf("%s listed twice", n)
		}
		seen[n] = true
	}
	if Name("ticket.created.v2").Known() || !TicketCreated.Known() {
		t.Error("Known does not match Names")
	}
}
