package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Envelope wraps every event on the wire and in the outbox.
type Envelope struct {
	// ID is unique per event (a UUID); consumers may use it for dedup.
	ID string `json:"id" bson:"id"`
	// Type is the versioned name, equal to the routing key.
	Type Name `json:"type" bson:"type"`
	// OccurredAt is when the state change happened, UTC.
	OccurredAt time.Time `json:"occurredAt" bson:"occurredAt"`
	// CorrelationID ties together everything one user request caused.
	CorrelationID string `json:"correlationId,omitempty" bson:"correlationId,omitempty"`
	// Traceparent is the W3C trace context of the request, when known.
	Traceparent string `json:"traceparent,omitempty" bson:"traceparent,omitempty"`
	// Data is the aggregate's whole current state, with its version.
	Data json.RawMessage `json:"data" bson:"data"`
}

// Meta is what a request passes on to the events it causes.
type Meta struct {
	CorrelationID string
	Traceparent   string
}

// New wraps data as event name.
func New(name Name, data any, meta Meta) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s: %w", name, err)
	}
	return Envelope{
		ID:            uuid.NewString(),
		Type:          name,
		OccurredAt:    time.Now().UTC().Truncate(time.Millisecond),
		CorrelationID: meta.CorrelationID,
		Traceparent:   meta.Traceparent,
		Data:          raw,
	}, nil
}

// ErrMalformed marks a message that can never be processed: retrying it is
// pointless, so the consumer dead-letters it at once.
var ErrMalformed = errors.New("malformed event")

// Decode parses and checks an envelope from the wire.
func Decode(body []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case uuid.Validate(e.ID) != nil:
		return Envelope{}, fmt.Errorf("%w: id %q is not a UUID", ErrMalformed, e.ID)
	case e.Type == "":
		return Envelope{}, fmt.Errorf("%w: no type", ErrMalformed)
	case len(e.Data) == 0 || bytes.Equal(e.Data, []byte("null")):
		return Envelope{}, fmt.Errorf("%w: no data", ErrMalformed)
	}
	return e, nil
}

// Payload is implemented by every event payload so that a decoded one is
// checked before a handler sees it.
type Payload interface {
	Validate() error
}

// DecodeData unmarshals the envelope's data into p and validates it. Unknown
// fields are accepted (a newer producer may add some); missing required
// ones are ErrMalformed.
func DecodeData[P any, PP interface {
	*P
	Payload
}](e Envelope) (P, error) {
	var p P
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return p, fmt.Errorf("%w: %s data: %v", ErrMalformed, e.Type, err)
	}
	if err := PP(&p).Validate(); err != nil {
		return p, fmt.Errorf("%w: %s data: %v", ErrMalformed, e.Type, err)
	}
	return p, nil
}
