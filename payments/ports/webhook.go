package ports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

// SignatureHeader carries Stripe's signature of a webhook event.
const SignatureHeader = "Stripe-Signature"

// SignatureTolerance is how old a signed event may be (Stripe's default):
// an event captured and replayed later is refused.
const SignatureTolerance = webhook.DefaultTolerance

var (
	errBadSignature = apierr.Invalid("invalid_signature", "missing or invalid "+SignatureHeader+" header")
	errBadEvent     = apierr.Invalid("invalid_event", "the body is not a Stripe event")
	errWebhookSize  = apierr.TooLarge(fmt.Sprintf("the request body must be at most %d bytes", httpserver.MaxBodyBytes))
)

// stripeObject is what payments reads of an event's data.object: a
// PaymentIntent (its id) or a Charge (its payment_intent, an id or the
// expanded object), and the metadata set when the intent was created.
type stripeObject struct {
	ID            string            `json:"id"`
	PaymentIntent json.RawMessage   `json:"payment_intent"`
	Metadata      map[string]string `json:"metadata"`
}

// ParseStripeEvent verifies payload against Stripe's signature header with
// the endpoint's secret, as Stripe signs it (HMAC-SHA256 of "t.payload",
// within SignatureTolerance of now), and reads the event. Events of any
// Stripe API version are read: payments reads only ids and metadata, which
// every version carries alike.
func ParseStripeEvent(payload []byte, header, secret string) (domain.StripeEvent, error) {
	evt, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		Tolerance: SignatureTolerance, IgnoreAPIVersionMismatch: true,
	})
	if signatureError(err) {
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
	if e.Type == domain.ChargeRefunded {
		e.PaymentIntentID = intentID(obj.PaymentIntent)
	} else {
		e.PaymentIntentID = obj.ID
	}
	return e, nil
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
	e, err := ParseStripeEvent(body, c.GetHeader(SignatureHeader), h.webhookSecret)
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
