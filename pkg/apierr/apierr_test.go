package apierr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
)

func TestStatus_MapsEachKindToItsStatus(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp: connection refused")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"invalid", apierr.Invalid("bad", "bad input"), http.StatusBadRequest},
		{"validation", apierr.Validation(apierr.Field("price", "must be ≥ 0")), http.StatusBadRequest},
		{"unauthenticated", apierr.Unauthenticated("sign in"), http.StatusUnauthorized},
		{"forbidden", apierr.Forbidden("not_owner", "not yours"), http.StatusForbidden},
		{"not found", apierr.NotFound("ticket_not_found", "no such ticket"), http.StatusNotFound},
		{"method not allowed", apierr.New(apierr.KindMethodNotAllowed, "method_not_allowed", "no"), http.StatusMethodNotAllowed},
		{"conflict", apierr.Conflict("email_taken", "taken"), http.StatusConflict},
		{"too large", apierr.TooLarge("too big"), http.StatusRequestEntityTooLarge},
		{"unsupported media type", apierr.UnsupportedMediaType("json please"), http.StatusUnsupportedMediaType},
		{"rate limited", apierr.RateLimited("slow down"), http.StatusTooManyRequests},
		{"upstream", apierr.Upstream("Stripe", cause), http.StatusBadGateway},
		{"unavailable", apierr.Unavailable("Kratos", cause), http.StatusServiceUnavailable},
		{"internal", apierr.Internal(cause), http.StatusInternalServerError},
		{"wrapped api error", fmt.Errorf("create ticket: %w", apierr.Conflict("reserved", "reserved")), http.StatusConflict},
		{"plain error", cause, http.StatusInternalServerError},
		{"unknown kind", apierr.New(apierr.Kind(99), "x", "y"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := apierr.Status(tt.err); got != tt.want {
				t.Errorf("Status() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBodyOf_NeverLeaksInternalText(t *testing.T) {
	t.Parallel()
	secret := errors.New("mongo: auth failed for user admin:hunter2")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "client error with fields",
			err:  apierr.Validation(apierr.Field("price", "must be an integer ≥ 0")),
			want: `{"error":{"code":"validation_failed","message":"the request is invalid","fields":[{"field":"price","message":"must be an integer ≥ 0"}]}}`,
		},
		{
			name: "client error without fields omits them",
			err:  apierr.Conflict("email_taken", "an account with this email exists"),
			want: `{"error":{"code":"email_taken","message":"an account with this email exists"}}`,
		},
		{
			name: "unavailable names the dependency, not the cause",
			err:  apierr.Unavailable("Kratos", secret),
			want: `{"error":{"code":"dependency_unavailable","message":"Kratos is unavailable, try again later"}}`,
		},
		{
			name: "plain error",
			err:  secret,
			want: `{"error":{"code":"internal","message":"internal error"}}`,
		},
		{
			name: "internal kind with a custom message",
			err:  apierr.New(apierr.KindInternal, "oops", "stack trace: "+secret.Error()),
			want: `{"error":{"code":"internal","message":"internal error"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(apierr.BodyOf(tt.err))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body = %s\nwant   %s", got, tt.want)
			}
		})
	}
}

func TestError_KeepsCauseForLogsAndErrorsIs(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	tests := []struct {
		name    string
		err     *apierr.Error
		wantMsg string
	}{
		{"unavailable", apierr.Unavailable("Keto", cause), "dependency_unavailable: Keto is unavailable, try again later: connection refused"},
		{"with cause", apierr.Invalid("bad", "bad input").WithCause(cause), "bad: bad input: connection refused"},
		{"internal", apierr.Internal(cause), "internal: internal error: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !errors.Is(tt.err, cause) {
				t.Error("errors.Is(err, cause) = false")
			}
			if got := tt.err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestWithCause_DoesNotChangeTheOriginal(t *testing.T) {
	t.Parallel()
	base := apierr.Invalid("bad", "bad input")
	_ = base.WithCause(errors.New("x"))
	if base.Unwrap() != nil {
		t.Error("WithCause changed the receiver")
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want apierr.Kind
	}{
		{"api error", apierr.NotFound("x", "y"), apierr.KindNotFound},
		{"wrapped", fmt.Errorf("a: %w", apierr.Unauthenticated("z")), apierr.KindUnauthenticated},
		{"plain", errors.New("boom"), apierr.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := apierr.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIs_MatchesSentinelThroughWithCause(t *testing.T) {
	t.Parallel()
	sentinel := apierr.Conflict("ticket_locked", "the ticket is reserved")
	wrapped := fmt.Errorf("edit: %w", sentinel.WithCause(errors.New("db says so")))
	if !errors.Is(wrapped, sentinel) {
		t.Fatal("a sentinel with a cause no longer matches errors.Is")
	}
	if errors.Is(wrapped, apierr.Conflict("other_code", "x")) || errors.Is(wrapped, apierr.Invalid("ticket_locked", "x")) {
		t.Fatal("errors of another code or kind matched")
	}
}
