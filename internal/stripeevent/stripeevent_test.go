package stripeevent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/ticketing/internal/stripeevent"
)

const secret = "whsec_stripeevent_test"

var payment = stripeevent.Payment{
	ID: "65f000000000000000000001", OrderID: "65f000000000000000000002",
	StripeID: "pi_3abc", Amount: 2500, Currency: "eur", Status: "pending",
}

func TestNew_BuildsEventsStripeGoAccepts(t *testing.T) {
	t.Parallel()
	for _, word := range []string{"succeeded", "failed", "refunded"} {
		t.Run(word, func(t *testing.T) {
			t.Parallel()
			typ, err := stripeevent.ParseType(word)
			if err != nil {
				t.Fatal(err)
			}
			e, err := stripeevent.New(typ, payment, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			// The strict ConstructEvent: signature, tolerance and API version.
			evt, err := webhook.ConstructEvent(e.Payload, stripeevent.Sign(e.Payload, secret, time.Now()), secret)
			if err != nil {
				t.Fatal(err)
			}
			if evt.ID != e.ID || !strings.HasPrefix(evt.ID, "evt_") || string(evt.Type) != string(typ) {
				t.Fatalf("event %s %s", evt.ID, evt.Type)
			}
			switch typ {
			case stripeevent.Refunded:
				var ch stripe.Charge
				if err := json.Unmarshal(evt.Data.Raw, &ch); err != nil {
					t.Fatal(err)
				}
				if ch.PaymentIntent == nil || ch.PaymentIntent.ID != payment.StripeID || !ch.Refunded || ch.AmountRefunded != 2500 {
					t.Fatalf("charge %+v", ch)
				}
			default:
				var pi stripe.PaymentIntent
				if err := json.Unmarshal(evt.Data.Raw, &pi); err != nil {
					t.Fatal(err)
				}
				if pi.ID != payment.StripeID || pi.Amount != 2500 || pi.Currency != "eur" || pi.Metadata["orderId"] != payment.OrderID || pi.Metadata["paymentId"] != payment.ID {
					t.Fatalf("intent %+v", pi)
				}
			}
		})
	}
}

func TestNew_FreshIDEachTime(t *testing.T) {
	t.Parallel()
	a, _ := stripeevent.New(stripeevent.Succeeded, payment, time.Now())
	b, _ := stripeevent.New(stripeevent.Succeeded, payment, time.Now())
	if a.ID == b.ID {
		t.Fatal("two events share an id")
	}
}

func TestNew_RefusesAPaymentWithoutIntent(t *testing.T) {
	t.Parallel()
	free := payment
	free.StripeID = ""
	if _, err := stripeevent.New(stripeevent.Succeeded, free, time.Now()); err == nil {
		t.Fatal("built an event for a payment Stripe never saw")
	}
	if _, err := stripeevent.ParseType("paid"); err == nil {
		t.Fatal("accepted an unknown word")
	}
}

func TestDeliver_PostsTheSignedEvent(t *testing.T) {
	t.Parallel()
	e, _ := stripeevent.New(stripeevent.Succeeded, payment, time.Now())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != stripeevent.WebhookPath {
			t.Errorf("path %s", r.URL.Path)
		}
		if err := webhook.ValidatePayload(body, r.Header.Get("Stripe-Signature"), secret); err != nil {
			t.Errorf("signature: %v", err)
		}
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	defer srv.Close()
	resp, err := stripeevent.Deliver(context.Background(), srv.Client(), srv.URL+"/", secret, e)
	if err != nil || resp.Status != http.StatusOK || string(resp.Body) != `{"received":true}` {
		t.Fatalf("%d %s %v", resp.Status, resp.Body, err)
	}
}
