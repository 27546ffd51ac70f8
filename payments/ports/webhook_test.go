package ports_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/payments/ports"
	"github.com/ticketing/ticketing/pkg/apierr"
)

const secret = "whsec_ports_test_secret"

func eventJSON(id, typ string, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2023-10-16", "created": time.Now().Unix(),
		"data": map[string]any{"object": object},
	})
	return b
}

func intentEvent(typ string) []byte {
	return eventJSON("evt_1", typ, map[string]any{
		"id": "pi_1", "object": "payment_intent", "amount": 2500, "amount_received": 2400, "currency": "eur",
		"metadata": map[string]string{"orderId": "65f000000000000000000002", "paymentId": "65f000000000000000000001"},
	})
}

func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func TestParseStripeEvent_AcceptsAGoodSignature(t *testing.T) {
	t.Parallel()
	payload := intentEvent("payment_intent.succeeded")
	e, err := ports.ParseStripeEvent(payload, sign(payload, secret, time.Now()), secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := domain.StripeEvent{ID: "evt_1", Type: domain.IntentSucceeded, PaymentIntentID: "pi_1",
		OrderID: "65f000000000000000000002", PaymentID: "65f000000000000000000001", Amount: 2400, Currency: "eur"}
	if e != want {
		t.Fatalf("event %+v, want %+v", e, want)
	}
}

func TestParseStripeEvent_AcceptsTheHeaderStripeDocuments(t *testing.T) {
	t.Parallel()
	// Built by hand, as Stripe documents it: t=<unix>,v1=<hex HMAC-SHA256
	// of "t.payload">, with an unknown scheme beside it.
	payload := intentEvent("payment_intent.payment_failed")
	at := time.Now()
	header := fmt.Sprintf("t=%d,v1=%x,v0=ignored", at.Unix(), webhook.ComputeSignature(at, payload, secret))
	if _, err := ports.ParseStripeEvent(payload, header, secret, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestParseStripeEvent_RefusesBadSignatures(t *testing.T) {
	t.Parallel()
	payload := intentEvent("payment_intent.succeeded")
	tampered := []byte(strings.Replace(string(payload), `"amount":2500`, `"amount":1`, 1))
	cases := map[string]struct {
		payload []byte
		header  string
	}{
		"bad secret":       {payload, sign(payload, "whsec_someone_else", time.Now())},
		"stale timestamp":  {payload, sign(payload, secret, time.Now().Add(-ports.SignatureTolerance-time.Minute))},
		"future timestamp": {payload, sign(payload, secret, time.Now().Add(ports.SignatureTolerance+time.Minute))},
		// stripe-go reads the last t=: a fresh one first does not hide it.
		"future timestamp last": {payload, fmt.Sprintf("t=%d,%s", time.Now().Unix(), sign(payload, secret, time.Now().Add(time.Hour)))},
		"missing header":        {payload, ""},
		"tampered body":         {tampered, sign(payload, secret, time.Now())},
		"garbage header":        {payload, "not a signature"},
		"no v1 signature":       {payload, fmt.Sprintf("t=%d", time.Now().Unix())},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ports.ParseStripeEvent(c.payload, c.header, secret, time.Now())
			e, ok := apierr.As(err)
			if !ok || e.Kind != apierr.KindInvalid || e.Code != "invalid_signature" {
				t.Fatalf("err = %v, want 400 invalid_signature", err)
			}
		})
	}
}

func TestParseStripeEvent_ToleratesAClockALittleAhead(t *testing.T) {
	t.Parallel()
	payload := intentEvent("payment_intent.succeeded")
	now := time.Now()
	for _, skew := range []time.Duration{time.Minute, ports.SignatureTolerance - time.Second, -ports.SignatureTolerance + time.Second} {
		if _, err := ports.ParseStripeEvent(payload, sign(payload, secret, now.Add(skew)), secret, now); err != nil {
			t.Errorf("signed %s from now: %v", skew, err)
		}
	}
}

func TestParseStripeEvent_RefusesASignedBodyThatIsNoEvent(t *testing.T) {
	t.Parallel()
	for name, payload := range map[string][]byte{
		"not JSON":        []byte("hello"),
		"no id":           []byte(`{"type":"payment_intent.succeeded","data":{"object":{}}}`),
		"no data.object":  []byte(`{"id":"evt_1","type":"payment_intent.succeeded"}`),
		"object not JSON": []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":"x"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ports.ParseStripeEvent(payload, sign(payload, secret, time.Now()), secret, time.Now())
			if e, ok := apierr.As(err); !ok || e.Code != "invalid_event" || e.Kind != apierr.KindInvalid {
				t.Fatalf("err = %v, want 400 invalid_event", err)
			}
		})
	}
}

func TestParseStripeEvent_ReadsTheChargeOfARefund(t *testing.T) {
	t.Parallel()
	for name, pi := range map[string]any{
		"id":       "pi_7",
		"expanded": map[string]any{"id": "pi_7", "object": "payment_intent"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			payload := eventJSON("evt_9", "charge.refunded", map[string]any{
				"id": "ch_1", "object": "charge", "payment_intent": pi, "refunded": false,
				"amount": 2500, "amount_refunded": 1000, "currency": "eur",
				"metadata": map[string]string{"orderId": "65f000000000000000000002"},
			})
			e, err := ports.ParseStripeEvent(payload, sign(payload, secret, time.Now()), secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != domain.ChargeRefunded || e.PaymentIntentID != "pi_7" || e.OrderID != "65f000000000000000000002" ||
				e.Amount != 1000 || e.ChargeAmount != 2500 || e.Currency != "eur" {
				t.Fatalf("event %+v", e)
			}
		})
	}
}

func TestParseStripeEvent_ToleratesOtherAPIVersionsAndTypes(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"id":"evt_2","object":"event","type":"customer.created","api_version":"2020-08-27","data":{"object":{"id":"cus_1"}}}`)
	e, err := ports.ParseStripeEvent(payload, sign(payload, secret, time.Now()), secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "evt_2" || e.Type.Handled() {
		t.Fatalf("event %+v", e)
	}
}
