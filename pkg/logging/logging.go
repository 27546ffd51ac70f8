// Package logging builds the services' structured logger: JSON lines on
// stdout, each carrying the service name, and the request and correlation ids
// of the context it was logged with.
//
// Log with the *Context methods (logger.InfoContext(ctx, ...)) so that every
// line of a request carries its request_id without handlers passing it around.
package logging

import (
	"context"
	"io"
	"log/slog"
)

// Config is the logging part of a service's configuration.
type Config struct {
	// Level is the minimum level logged: debug, info, warn or error.
	Level slog.Level `env:"LOG_LEVEL" default:"info"`
}

// New returns a logger writing JSON lines to w (os.Stdout in a service) at
// level and above, each with a "service" attribute.
func New(w io.Writer, service string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(contextHandler{Handler: h}).With("service", service)
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	correlationIDKey
)

// WithRequestID returns a context whose log lines carry request_id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the request id stored in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithCorrelationID returns a context whose log lines carry correlation_id
// id: the id that follows one user action across services and events.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationIDKey, id)
}

// CorrelationID is the correlation id stored in ctx, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationIDKey).(string)
	return id
}

// contextHandler adds the ids found in the record's context to the record.
type contextHandler struct {
	slog.Handler
}

// Handle implements slog.Handler.
func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if id := CorrelationID(ctx); id != "" {
		r.AddAttrs(slog.String("correlation_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{Handler: h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name)}
}
