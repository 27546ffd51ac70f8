package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// IntentIdempotencyKey is the idempotency key of an order's PaymentIntent:
// however often payments asks, Stripe creates one PaymentIntent per order
// and answers the same one to every retry (within Stripe's 24 h window;
// after that the stored stripeId answers).
// WARNING: changing it lets a retry in flight charge twice.
func IntentIdempotencyKey(orderID string) string { return "ticketing-order-" + orderID + "-intent" }

// RefundIdempotencyKey is the idempotency key of a payment's refund.
// WARNING: changing it lets a retry in flight refund twice.
func RefundIdempotencyKey(paymentID string) string {
	return "ticketing-payment-" + paymentID + "-refund"
}

// StripeClient calls the Stripe API (stripe-mock locally) with stripe-go's
// resource clients.
type StripeClient struct {
	intents  paymentintent.Client
	refunds  refund.Client
	http     *http.Client
	baseURL  string
	logger   *slog.Logger
	readyURL string
}

var _ app.Stripe = (*StripeClient)(nil)

// NewStripeClient returns a client of the Stripe API at baseURL
// (https://api.stripe.com, or stripe-mock) with secret key key, calling it
// with httpClient (bounded timeouts, see package httpclient). stripe-go
// retries a failed network call once, with the same idempotency key.
func NewStripeClient(baseURL, key string, httpClient *http.Client, logger *slog.Logger) (*StripeClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("stripe: invalid API base URL %q", baseURL)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(baseURL),
		HTTPClient:        httpClient,
		MaxNetworkRetries: stripe.Int64(1),
		EnableTelemetry:   stripe.Bool(false),
		LeveledLogger:     stripeLogger{logger},
	})
	return &StripeClient{
		intents:  paymentintent.Client{B: backend, Key: key},
		refunds:  refund.Client{B: backend, Key: key},
		http:     httpClient,
		baseURL:  baseURL,
		logger:   logger,
		readyURL: u.JoinPath("v1").String(),
	}, nil
}

// CreateIntent implements app.Stripe. The PaymentIntent carries the order
// and payment ids in its metadata, so that its webhook events find the
// payment even if its id was never stored.
func (c *StripeClient) CreateIntent(ctx context.Context, r app.IntentRequest) (app.Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:   stripe.Int64(r.Amount),
		Currency: stripe.String(r.Currency),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{
			Enabled: stripe.Bool(true),
		},
	}
	params.Context = ctx
	params.SetIdempotencyKey(IntentIdempotencyKey(r.OrderID))
	params.AddMetadata("orderId", r.OrderID)
	params.AddMetadata("paymentId", r.PaymentID)
	if r.PaymentMethod != "" {
		// Confirmed server-side: no page to redirect the buyer back to.
		params.PaymentMethod = stripe.String(r.PaymentMethod)
		params.Confirm = stripe.Bool(true)
		params.AutomaticPaymentMethods.AllowRedirects = stripe.String(string(stripe.PaymentIntentAutomaticPaymentMethodsAllowRedirectsNever))
	}
	pi, err := c.intents.New(params)
	if err != nil {
		return app.Intent{}, stripeError("create the PaymentIntent", err)
	}
	if pi.ID == "" || pi.ClientSecret == "" {
		return app.Intent{}, apierr.Upstream("Stripe", errors.New("stripe: PaymentIntent without id or client secret"))
	}
	return app.Intent{ID: pi.ID, ClientSecret: pi.ClientSecret}, nil
}

// Refund implements app.Stripe: the whole amount of the PaymentIntent. A
// charge Stripe says is refunded already counts as refunded.
func (c *StripeClient) Refund(ctx context.Context, paymentID, stripeID string) error {
	params := &stripe.RefundParams{PaymentIntent: stripe.String(stripeID)}
	params.Context = ctx
	params.SetIdempotencyKey(RefundIdempotencyKey(paymentID))
	params.AddMetadata("paymentId", paymentID)
	_, err := c.refunds.New(params)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
		return nil
	}
	if err != nil {
		return stripeError("refund "+stripeID, err)
	}
	return nil
}

// Ready reports whether the Stripe API answers HTTP at all (an answer
// without a key is a 401, which is fine); for readiness checks.
func (c *StripeClient) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.readyURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return apierr.Unavailable("Stripe", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= http.StatusInternalServerError {
		return apierr.Unavailable("Stripe", fmt.Errorf("%s answered %s", c.readyURL, resp.Status))
	}
	return nil
}

// errIntentInProgress: another request with the same idempotency key is in
// flight at Stripe (two instances paying one order at once).
var errIntentInProgress = apierr.Conflict("payment_in_progress",
	"Stripe is still processing a request for this payment; retry in a moment")

// stripeError maps a failed Stripe call: Stripe unreachable (no answer
// within the client's timeout) → 503 (retry later); an idempotency key in
// use → 409; any error Stripe answered → 502 (Stripe failed the request).
// The cause is logged, never shown.
func stripeError(what string, err error) error {
	err = fmt.Errorf("stripe: %s: %w", what, err)
	var se *stripe.Error
	if !errors.As(err, &se) {
		return apierr.New(apierr.KindUnavailable, "stripe_unavailable", "Stripe cannot be reached; try again later").WithCause(err)
	}
	switch {
	case se.Type == stripe.ErrorTypeIdempotency:
		return errIntentInProgress.WithCause(err)
	default:
		return apierr.Upstream("Stripe", err)
	}
}

// stripeLogger sends stripe-go's log lines to slog: its per-request info
// lines at debug level, its errors as warnings (the caller decides what
// is an error).
type stripeLogger struct{ logger *slog.Logger }

func (l stripeLogger) Debugf(format string, v ...any) { l.logger.Debug(fmt.Sprintf(format, v...)) }
func (l stripeLogger) Infof(format string, v ...any)  { l.logger.Debug(fmt.Sprintf(format, v...)) }
func (l stripeLogger) Warnf(format string, v ...any)  { l.logger.Warn(fmt.Sprintf(format, v...)) }
func (l stripeLogger) Errorf(format string, v ...any) { l.logger.Warn(fmt.Sprintf(format, v...)) }
