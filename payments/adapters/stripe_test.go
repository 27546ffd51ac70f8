package adapters_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/payments/adapters"
	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/testenv"
)

func stripeClient(t *testing.T, base string) *adapters.StripeClient {
	t.Helper()
	c, err := adapters.NewStripeClient(base, "sk_test_ticketingadapters", httpclient.New(5*time.Second), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStripeClient_CreatesPaymentIntent(t *testing.T) {
	t.Parallel()
	c := stripeClient(t, testenv.Require(t, "TEST_STRIPE_API_BASE"))
	ctx := context.Background()
	for _, pm := range []string{"", "pm_card_visa"} {
		intent, err := c.CreateIntent(ctx, app.IntentRequest{PaymentID: newID(), OrderID: newID(), Amount: 2500, Currency: "eur", PaymentMethod: pm})
		if err != nil {
			t.Fatalf("payment method %q: %v", pm, err)
		}
		if !strings.HasPrefix(intent.ID, "pi_") || !strings.Contains(intent.ClientSecret, "_secret_") {
			t.Fatalf("intent %+v", intent)
		}
	}
}

func TestStripeClient_Refunds(t *testing.T) {
	t.Parallel()
	c := stripeClient(t, testenv.Require(t, "TEST_STRIPE_API_BASE"))
	ctx := context.Background()
	intent, err := c.CreateIntent(ctx, app.IntentRequest{PaymentID: newID(), OrderID: newID(), Amount: 900, Currency: "usd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refund(ctx, newID(), intent.ID); err != nil {
		t.Fatal(err)
	}
}

func TestStripeClient_RefusedRequestIsUpstreamError(t *testing.T) {
	t.Parallel()
	base := testenv.Require(t, "TEST_STRIPE_API_BASE")
	// stripe-mock, like Stripe, refuses a key that does not look like one.
	c, err := adapters.NewStripeClient(base, "sk_test_not_a_key", httpclient.New(5*time.Second), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateIntent(context.Background(), app.IntentRequest{PaymentID: newID(), OrderID: newID(), Amount: 100, Currency: "eur"})
	if apierr.KindOf(err) != apierr.KindUpstream {
		t.Fatalf("err = %v (kind %v), want 502 upstream", err, apierr.KindOf(err))
	}
	if err := c.Refund(context.Background(), newID(), "pi_123"); apierr.KindOf(err) != apierr.KindUpstream {
		t.Fatalf("refund err = %v, want 502 upstream", err)
	}
}

func TestStripeClient_UnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	c := stripeClient(t, "http://127.0.0.1:1")
	start := time.Now()
	_, err := c.CreateIntent(context.Background(), app.IntentRequest{PaymentID: newID(), OrderID: newID(), Amount: 100, Currency: "eur"})
	if apierr.KindOf(err) != apierr.KindUnavailable {
		t.Fatalf("err = %v, want 503", err)
	}
	if e, _ := apierr.As(err); e.Code != "stripe_unavailable" {
		t.Fatalf("code %q", e.Code)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %s: not bounded", time.Since(start))
	}
	if err := c.Ready(context.Background()); apierr.KindOf(err) != apierr.KindUnavailable {
		t.Fatalf("Ready = %v", err)
	}
}

func TestStripeClient_ReadyAgainstStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeClient(t, testenv.Require(t, "TEST_STRIPE_API_BASE"))
	if err := c.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotencyKeys_DerivedFromOrderAndPayment(t *testing.T) {
	t.Parallel()
	if got := adapters.IntentIdempotencyKey("65f000000000000000000002"); got != "ticketing-order-65f000000000000000000002-intent" {
		t.Fatal(got)
	}
	if got := adapters.RefundIdempotencyKey("65f000000000000000000001"); got != "ticketing-payment-65f000000000000000000001-refund" {
		t.Fatal(got)
	}
}
