package ports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

// SignatureHeader carries Stripe's signature of a webhook event.
const SignatureHeader = "Stripe-Signature"

// SignatureTolerance is how far from now a signature's timestamp may be
// (Stripe's default), either way: an event captured and replayed later is
// refused, and so is one signed for a time to come (stripe-go checks only
// the age, so ParseStripeEvent checks the future itself).
const SignatureTolerance = webhook.DefaultTolerance

// errFromTheFuture is the refusal of a signature dated after now +
// SignatureTolerance.
var errFromTheFuture = errors.New("timestamp is more than the tolerance in the future")

var (
	errBadSignature = apierr.Invalid("invalid_signature", "missing or invalid "+SignatureHeader+" header")
	errBadEvent     = apierr.Invalid("invalid_event", "the body is not a Stripe event")
	errWebhookSize  = apierr.TooLarge(fmt.Sprintf("the request body must be at most %d bytes", httpserver.MaxBodyBytes))
)

// stripeObject is what payments reads of an event's data.object: a
// PaymentIntent (its id, amount_received and currency) or a Charge (its
// payment_intent, an id or the expanded object, amount and
// amount_refunded), and the metadata set when the intent was created.
type stripeObject struct {
	ID             string            `json:"id"`
	PaymentIntent  json.RawMessage   `json:"payment_intent"`
	Metadata       map[string]string `json:"metadata"`
	Currency       string            `json:"currency"`
	AmountReceived int64             `json:"amount_received"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
}

// ParseStripeEvent verifies payload against Stripe's signature header with
// the endpoint's secret, as Stripe signs it (HMAC-SHA256 of "t.payload",
// within SignatureTolerance of now, before or after), and reads the event.
// Events of any Stripe API version are read: payments reads only ids,
// amounts, currencies and metadata, which every version carries alike.
func ParseStripeEvent(payload []byte, header, secret string, now time.Time) (domain.StripeEvent, error) {
	evt, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		Tolerance: SignatureTolerance, IgnoreAPIVersionMismatch: true,
	})
	if err == nil && signedAfter(header, now.Add(SignatureTolerance)) {
		err = errFromTheFuture
	}
	if signatureError(err) || errors.Is(err, errFromTheFuture) {
		return domain.StripeEvent{}, errBadSignature.WithCause(err)
	}
	if err != nil || evt.ID == "" || evt.Type == "" {
		return domain.StripeEvent{}, errBadEvent.WithCause(err)
	}
	e := domain.StripeEvent{ID: evt.ID, Type: domain.StripeEventType(evt.Type)}
	if !e.Type.Handled() {
		return e, nil
	}
	if evt.Data == nil || len(evt.Data.Raw) == 0 {
		return domain.StripeEvent{}, errBadEvent.WithCause(errors.New("no data.object"))
	}
	var obj stripeObject
	if err := json.Unmarshal(evt.Data.Raw, &obj); err != nil {
		return domain.StripeEvent{}, errBadEvent.WithCause(err)
	}
	e.OrderID, e.PaymentID = obj.Metadata["orderId"], obj.Metadata["paymentId"]
	e.Currency = obj.Currency
	if e.Type == domain.ChargeRefunded {
		e.PaymentIntentID = intentID(obj.PaymentIntent)
		e.Amount, e.ChargeAmount = obj.AmountRefunded, obj.Amount
	} else {
		e.PaymentIntentID = obj.ID
		e.Amount = obj.AmountReceived
	}
	return e, nil
}

// signedAfter reports whether the signature header's timestamp, read as
// stripe-go reads it (the last t=), is after limit. The header was
// verified, so it holds a well-formed timestamp.
func signedAfter(header string, limit time.Time) bool {
	var at int64
	for _, pair := range strings.Split(header, ",") {
		if k, v, ok := strings.Cut(pair, "="); ok && k == "t" {
			at, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return time.Unix(at, 0).After(limit)
}

// signatureError reports whether err is stripe-go's refusal of the
// signature (as opposed to a signed body that is not an event).
func signatureError(err error) bool {
	return errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) ||
		errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld)
}

// intentID reads a charge's payment_intent: an id, or the expanded object.
func intentID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

type webhookResponse struct {
	Received bool   `json:"received"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Outcome  string `json:"outcome"`
}

// webhook receives Stripe's events. The raw body is what Stripe signed, so
// it is read as it is (at most 1 MiB), never rebound. A 2xx tells Stripe
// the event is handled; a 5xx (the database down, a refund Stripe refused)
// makes Stripe deliver it again, and a repeated event changes nothing.
func (h HTTPServer) webhook(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, httpserver.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpserver.WriteError(c, errWebhookSize)
			return
		}
		httpserver.WriteError(c, apierr.Invalid("unreadable_body", "the request body could not be read").WithCause(err))
		return
	}
	e, err := ParseStripeEvent(body, c.GetHeader(SignatureHeader), h.webhookSecret, time.Now())
	if err != nil {
		h.logger.WarnContext(c.Request.Context(), "stripe webhook refused", "error", err.Error())
		httpserver.WriteError(c, err)
		return
	}
	outcome, err := h.app.HandleStripeEvent.Handle(c.Request.Context(), e)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookResponse{Received: true, ID: e.ID, Type: string(e.Type), Outcome: string(outcome)})
}
