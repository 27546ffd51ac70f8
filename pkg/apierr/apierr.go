// Package apierr is the one error vocabulary of the ticketing services.
//
// Use cases and adapters return an *Error that says what went wrong in terms a
// client can act on (a Kind, a stable Code slug, a Message, optional field
// problems); one function at the HTTP edge turns it into a status code and the
// JSON error shape of docs/architecture.md ("API conventions"). Any other
// error is internal: its text is logged, never shown to a client.
package apierr

import (
	"errors"
	"net/http"
	"time"
)

// Kind classifies an error by how a client should react to it; each kind has
// exactly one HTTP status.
type Kind int

// The kinds. KindInternal is the zero value so that an Error built without a
// kind never passes for a client error.
const (
	KindInternal             Kind = iota // 500: a bug or an unexpected state; details are logged only
	KindInvalid                          // 400: malformed or invalid input
	KindUnauthenticated                  // 401: no session, or a bad one
	KindForbidden                        // 403: the caller may see the resource but not do this
	KindNotFound                         // 404: unknown, or not visible to the caller
	KindMethodNotAllowed                 // 405: the resource does not answer this method
	KindConflict                         // 409: the resource's state forbids the change
	KindTooLarge                         // 413: the request body is too large
	KindUnsupportedMediaType             // 415: the request body is not JSON
	KindRateLimited                      // 429: too many requests
	KindUpstream                         // 502: a third party (Stripe) failed the request
	KindUnavailable                      // 503: a dependency is unavailable; retry later
)

var kindStatus = map[Kind]int{
	KindInternal:             http.StatusInternalServerError,
	KindInvalid:              http.StatusBadRequest,
	KindUnauthenticated:      http.StatusUnauthorized,
	KindForbidden:            http.StatusForbidden,
	KindNotFound:             http.StatusNotFound,
	KindMethodNotAllowed:     http.StatusMethodNotAllowed,
	KindConflict:             http.StatusConflict,
	KindTooLarge:             http.StatusRequestEntityTooLarge,
	KindUnsupportedMediaType: http.StatusUnsupportedMediaType,
	KindRateLimited:          http.StatusTooManyRequests,
	KindUpstream:             http.StatusBadGateway,
	KindUnavailable:          http.StatusServiceUnavailable,
}

// Status is the HTTP status code of the kind; an unknown kind is internal.
func (k Kind) Status() int {
	if status, ok := kindStatus[k]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// String names the kind after its HTTP status text, for logs.
func (k Kind) String() string {
	return http.StatusText(k.Status())
}

// FieldError says what is wrong with one input field. Field is the JSON path
// of the field as the client sent it ("price", "name.first").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Field is a shorthand for FieldError{Field: field, Message: message}.
func Field(field, message string) FieldError {
	return FieldError{Field: field, Message: message}
}

// Error is an error a client can act on. Code is a stable slug that clients
// may switch on ("validation_failed", "email_taken"); Message is a sentence
// for humans; Fields name the inputs at fault. The cause, if any, is kept for
// logs and errors.Is/As, and never shown to a client.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter, on a rate-limited error, is how long the client should
	// wait before trying again (the HTTP edge sends it as Retry-After).
	RetryAfter time.Duration
	cause      error
}

// Error implements error; it includes the cause, so it is for logs only.
func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the cause, so that errors.Is and errors.As see through.
func (e *Error) Unwrap() error {
	return e.cause
}

// Is makes errors.Is match errors of the same kind and code, so that a
// sentinel (var ErrX = apierr.Conflict(…)) still matches the copy
// WithCause returns.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// WithCause returns a copy of e that records cause for logs.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// New builds an error of any kind; prefer the constructors named after kinds.
func New(kind Kind, code, message string, fields ...FieldError) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Fields: fields}
}

// Invalid reports malformed or invalid input (400).
func Invalid(code, message string, fields ...FieldError) *Error {
	return New(KindInvalid, code, message, fields...)
}

// Validation reports invalid input fields (400, code "validation_failed").
func Validation(fields ...FieldError) *Error {
	return Invalid("validation_failed", "the request is invalid", fields...)
}

// Unauthenticated reports a missing or bad session (401, code
// "unauthenticated").
func Unauthenticated(message string) *Error {
	return New(KindUnauthenticated, "unauthenticated", message)
}

// Forbidden reports that the caller may not do this (403).
func Forbidden(code, message string) *Error {
	return New(KindForbidden, code, message)
}

// NotFound reports an unknown resource, or one the caller may not see (404).
func NotFound(code, message string) *Error {
	return New(KindNotFound, code, message)
}

// Conflict reports that the resource's state forbids the change (409).
func Conflict(code, message string, fields ...FieldError) *Error {
	return New(KindConflict, code, message, fields...)
}

// TooLarge reports a request body over the limit (413, code
// "body_too_large").
func TooLarge(message string) *Error {
	return New(KindTooLarge, "body_too_large", message)
}

// UnsupportedMediaType reports a body that is not JSON (415, code
// "unsupported_media_type").
func UnsupportedMediaType(message string) *Error {
	return New(KindUnsupportedMediaType, "unsupported_media_type", message)
}

// RateLimited reports too many requests (429, code "rate_limited").
func RateLimited(message string) *Error {
	return New(KindRateLimited, "rate_limited", message)
}

// RateLimitedFor reports too many requests (429, code "rate_limited") that
// may be retried after retryAfter.
func RateLimitedFor(message string, retryAfter time.Duration) *Error {
	e := RateLimited(message)
	e.RetryAfter = retryAfter
	return e
}

// Upstream reports that a third party (named, e.g. "Stripe") failed the
// request (502, code "upstream_failed").
func Upstream(dependency string, cause error) *Error {
	return New(KindUpstream, "upstream_failed", dependency+" failed the request").WithCause(cause)
}

// Unavailable reports that a dependency (named, e.g. "Kratos", "Keto", "the
// database") cannot be reached or answered with a server error (503, code
// "dependency_unavailable"). The client may retry.
func Unavailable(dependency string, cause error) *Error {
	return New(KindUnavailable, "dependency_unavailable", dependency+" is unavailable, try again later").WithCause(cause)
}

// Internal wraps an unexpected error (500, code "internal"); its text is
// logged, the client sees only "internal error".
func Internal(cause error) *Error {
	return New(KindInternal, "internal", internalMessage).WithCause(cause)
}

const internalMessage = "internal error"

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// KindOf is the kind of err: that of the *Error in its chain, else
// KindInternal.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}

// Status is the HTTP status code for err; anything but an *Error is 500.
func Status(err error) int {
	return KindOf(err).Status()
}

// Body is the public JSON error document: {"error":{...}}.
type Body struct {
	Error Payload `json:"error"`
}

// Payload is the inside of the public error document.
type Payload struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// BodyOf is the public JSON body for err. Internal errors, and errors that are
// not an *Error, become {"code":"internal","message":"internal error"}: their
// text never reaches a client.
func BodyOf(err error) Body {
	e, ok := As(err)
	if !ok || e.Kind.Status() == http.StatusInternalServerError {
		return Body{Error: Payload{Code: "internal", Message: internalMessage}}
	}
	return Body{Error: Payload{Code: e.Code, Message: e.Message, Fields: e.Fields}}
}
