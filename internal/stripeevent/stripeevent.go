// Package stripeevent plays Stripe's part for a local stack, where
// stripe-mock never completes a payment: it builds the webhook events
// Stripe would send about a payment (payment_intent.succeeded,
// payment_intent.payment_failed, charge.refunded), signs them exactly as
// Stripe does (header t=<unix>,v1=<hex HMAC-SHA256 of "t.payload"> with the
// endpoint's whsec_ secret), and posts them to the payments webhook.
// cmd/stripe and the end-to-end tests both go through it, so the tests
// send what a developer sends.
package stripeevent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// Type is a Stripe event type the payments service reacts to.
type Type string

// The event types, and the command words that name them.
const (
	Succeeded Type = "payment_intent.succeeded"
	Failed    Type = "payment_intent.payment_failed"
	Refunded  Type = "charge.refunded"
)

// ParseType reads a command word: succeeded, failed or refunded.
func ParseType(word string) (Type, error) {
	switch word {
	case "succeeded":
		return Succeeded, nil
	case "failed":
		return Failed, nil
	case "refunded":
		return Refunded, nil
	}
	return "", fmt.Errorf("unknown event %q: want succeeded, failed or refunded", word)
}

// WebhookPath is where the payments service receives Stripe's events,
// under the site's public URL.
const WebhookPath = "/api/payments/webhook"

// Payment is what an event says about a payment: its PaymentIntent, amount
// and currency, and the metadata payments set on the intent.
type Payment struct {
	ID       string `bson:"_id"`
	OrderID  string `bson:"orderId"`
	StripeID string `bson:"stripeId"`
	Amount   int64  `bson:"amount"`
	Currency string `bson:"currency"`
	Status   string `bson:"status"`
}

// Event is a built Stripe event: its id and its JSON body, as signed.
type Event struct {
	ID      string
	Type    Type
	Payload []byte
}

// New builds the event of type t about p, with a fresh evt_ id, created
// now, in the API version stripe-go v76 reads (2023-10-16): data.object is
// the PaymentIntent, or for charge.refunded its Charge.
func New(t Type, p Payment, now time.Time) (Event, error) {
	if p.StripeID == "" {
		return Event{}, fmt.Errorf("payment %s has no PaymentIntent (a free order, or Stripe never answered): Stripe would send no event", p.ID)
	}
	id := "evt_" + randomID()
	metadata := map[string]string{"orderId": p.OrderID, "paymentId": p.ID}
	charge := "ch_" + strings.TrimPrefix(p.StripeID, "pi_")
	var object map[string]any
	switch t {
	case Succeeded:
		object = intent(p, metadata, "succeeded", charge)
		object["amount_received"] = p.Amount
	case Failed:
		object = intent(p, metadata, "requires_payment_method", charge)
		object["last_payment_error"] = map[string]any{
			"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
			"message": "Your card was declined.",
		}
	case Refunded:
		object = map[string]any{
			"id": charge, "object": "charge", "amount": p.Amount, "amount_captured": p.Amount,
			"amount_refunded": p.Amount, "captured": true, "currency": p.Currency, "livemode": false,
			"metadata": metadata, "paid": true, "payment_intent": p.StripeID, "refunded": true, "status": "succeeded",
		}
	default:
		return Event{}, fmt.Errorf("unknown event type %q", t)
	}
	body, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": now.Unix(),
		"data": map[string]any{"object": object}, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil}, "type": string(t),
	})
	if err != nil {
		return Event{}, err
	}
	return Event{ID: id, Type: t, Payload: body}, nil
}

func intent(p Payment, metadata map[string]string, status, charge string) map[string]any {
	return map[string]any{
		"id": p.StripeID, "object": "payment_intent", "amount": p.Amount, "currency": p.Currency,
		"capture_method": "automatic", "latest_charge": charge, "livemode": false,
		"metadata": metadata, "status": status,
	}
}

// Sign returns the Stripe-Signature header of payload, signed with secret
// at time at, with stripe-go's own signing (the scheme Stripe documents).
func Sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// Response is the webhook's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send posts payload with its Stripe-Signature header (none when
// signature is empty) to publicURL + WebhookPath, as Stripe does.
func Send(ctx context.Context, client *http.Client, publicURL string, payload []byte, signature string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(publicURL, "/")+WebhookPath, bytes.NewReader(payload))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, err
}

// Deliver signs e with secret now and sends it.
func Deliver(ctx context.Context, client *http.Client, publicURL, secret string, e Event) (Response, error) {
	return Send(ctx, client, publicURL, e.Payload, Sign(e.Payload, secret, time.Now()))
}

// ErrNoPayment: neither a payment nor an order has the id.
var ErrNoPayment = errors.New("no payment has that id, and no order has a payment with that id")

// Find reads a payment from the payments database by its id, or by its
// order's id.
func Find(ctx context.Context, db *mongo.Database, id string) (Payment, error) {
	var p Payment
	for _, field := range []string{"_id", "orderId"} {
		err := db.Collection("payments").FindOne(ctx, bson.M{field: id}).Decode(&p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return Payment{}, fmt.Errorf("read the payments database: %w", err)
		}
	}
	return Payment{}, fmt.Errorf("%s: %w", id, ErrNoPayment)
}

// randomID is 24 random base-62 characters, like Stripe's ids.
func randomID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
