// Package session authenticates requests with Ory Kratos sessions.
//
// Middleware from an Authenticator reads the credential (a session token from
// "Authorization: Bearer" or "X-Session-Token", else the Kratos session
// cookie), asks Kratos who it belongs to (GET /sessions/whoami, cached for at
// most SESSION_CACHE_TTL so that a revoked session stops working everywhere
// within 5 s), and stores the Session in the request context. A cookie-
// authenticated state-changing request must also come from an allowed origin
// (CSRF defence); token-authenticated requests need nothing more.
package session

import (
	"context"
	"net/http"
	"time"
)

// Config is the session part of a service's configuration.
type Config struct {
	// KratosPublicURL is Kratos' public API, for whoami.
	KratosPublicURL string `env:"KRATOS_PUBLIC_URL,required" validate:"url"`
	// CacheTTL is how long a whoami answer is reused; at most 5s, so that a
	// signed-out session stops working everywhere within 5 s.
	CacheTTL time.Duration `env:"SESSION_CACHE_TTL" default:"2s" validate:"min=0s,max=5s"`
	// PublicURL is the site's origin as browsers see it; cookie-authenticated
	// writes must come from it or from AllowedOrigins.
	PublicURL string `env:"PUBLIC_URL" validate:"url"`
	// AllowedOrigins are further origins allowed to send cookie-authenticated
	// writes.
	AllowedOrigins []string `env:"CORS_ALLOWED_ORIGINS" validate:"url"`
}

// CookieName is the Kratos session cookie.
const CookieName = "ory_kratos_session"

// Identity is the Kratos identity behind a session: its id (a UUID, the
// user's id everywhere) and traits.
type Identity struct {
	ID    string
	Email string
	// Name is nil when the user gave none.
	Name *Name
}

// Name is a user's optional name; either part may be empty.
type Name struct {
	First string
	Last  string
}

// Credential is what authenticated a request: a session token, or the value
// of the Kratos session cookie. Exactly one is set.
type Credential struct {
	Token  string
	Cookie string
}

// FromCookie reports whether the credential is a browser's session cookie
// (as opposed to an API client's token).
func (c Credential) FromCookie() bool {
	return c.Token == "" && c.Cookie != ""
}

// Attach sets the credential on an outgoing request, so that a service can
// ask another on its caller's behalf: the other service authenticates the
// caller itself and decides with its own permissions.
func (c Credential) Attach(r *http.Request) {
	switch {
	case c.Token != "":
		r.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Cookie != "":
		r.AddCookie(&http.Cookie{Name: CookieName, Value: c.Cookie})
	}
}

// Session is an authenticated Kratos session.
type Session struct {
	// ID is the Kratos session id (for revoking it with the admin API).
	ID         string
	Identity   Identity
	Credential Credential
	// ExpiresAt is when Kratos ends the session.
	ExpiresAt time.Time
}

type ctxKey struct{}

// ginKey is the key under which the middleware also stores the Session in
// the gin context, so that FromContext works with a *gin.Context too.
const ginKey = "session.Session"

// NewContext returns a context that carries s.
func NewContext(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the Session of an authenticated request. ctx may be the
// request's context or its *gin.Context.
func FromContext(ctx context.Context) (Session, bool) {
	if s, ok := ctx.Value(ctxKey{}).(Session); ok {
		return s, true
	}
	s, ok := ctx.Value(ginKey).(Session)
	return s, ok
}

// IdentityFrom returns the identity of an authenticated request. ctx may be
// the request's context or its *gin.Context.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	s, ok := FromContext(ctx)
	return s.Identity, ok
}
