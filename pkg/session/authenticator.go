package session

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ticketing/ticketing/pkg/apierr"
)

const (
	// whoamiTimeout bounds one whoami call, whatever the caller's deadline.
	whoamiTimeout = 3 * time.Second
	// maxNegativeTTL bounds how long "Kratos does not know this credential"
	// is remembered: long enough to absorb a burst, short enough not to
	// matter.
	maxNegativeTTL = time.Second
	// maxCredentialLength: longer credentials are refused without asking
	// Kratos.
	maxCredentialLength = 4096
)

var errUnauthenticated = apierr.Unauthenticated("no valid session: sign in again")

// Authenticator validates credentials with Kratos whoami, with a short cache
// and one call in flight per credential. It is safe for concurrent use.
type Authenticator struct {
	whoamiURL string
	client    *http.Client
	ttl       time.Duration
	origins   map[string]bool
	cache     *cache
	flights   singleflight.Group
	now       func() time.Time
}

// New returns an Authenticator calling Kratos at cfg.KratosPublicURL with
// client (see package httpclient).
func New(cfg Config, client *http.Client) (*Authenticator, error) {
	base, err := url.Parse(cfg.KratosPublicURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("session: invalid Kratos public URL %q", cfg.KratosPublicURL)
	}
	if cfg.CacheTTL < 0 || cfg.CacheTTL > 5*time.Second {
		return nil, fmt.Errorf("session: cache TTL must be between 0s and 5s, got %s", cfg.CacheTTL)
	}
	origins, err := allowedOrigins(cfg)
	if err != nil {
		return nil, err
	}
	return &Authenticator{
		whoamiURL: base.JoinPath("sessions", "whoami").String(),
		client:    client,
		ttl:       cfg.CacheTTL,
		origins:   origins,
		cache:     newCache(),
		now:       time.Now,
	}, nil
}

// Authenticate returns the session cred belongs to. It fails with an
// apierr.Error: unauthenticated (401) when Kratos does not accept cred,
// unavailable (503) when Kratos cannot be asked.
func (a *Authenticator) Authenticate(ctx context.Context, cred Credential) (Session, error) {
	if len(cred.Token) > maxCredentialLength || len(cred.Cookie) > maxCredentialLength {
		return Session{}, errUnauthenticated
	}
	key := keyOf(cred)
	if e, ok := a.cache.get(key, a.now()); ok {
		return e.session, e.err
	}
	generation := a.cache.currentGeneration()
	flight := a.flights.DoChan(string(key[:]), func() (any, error) {
		// The call outlives a caller that gives up: others may wait on it.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), whoamiTimeout)
		defer cancel()
		s, err := a.whoami(callCtx, cred)
		a.remember(key, s, err, generation)
		return s, err
	})
	select {
	case res := <-flight:
		return res.Val.(Session), res.Err
	case <-ctx.Done():
		return Session{}, apierr.Unavailable("Kratos", ctx.Err())
	}
}

// Forget drops cred from this process' cache at once, e.g. after signing
// it out; other processes drop it within their cache TTL.
func (a *Authenticator) Forget(cred Credential) {
	key := keyOf(cred)
	a.cache.forget(key)
	a.flights.Forget(string(key[:]))
}

// remember caches a session, or Kratos' refusal, never a failure to ask.
func (a *Authenticator) remember(key cacheKey, s Session, err error, generation uint64) {
	now := a.now()
	var expires time.Time
	switch {
	case err == nil:
		expires = now.Add(a.ttl)
		if !s.ExpiresAt.IsZero() && s.ExpiresAt.Before(expires) {
			expires = s.ExpiresAt
		}
	case apierr.KindOf(err) == apierr.KindUnauthenticated:
		expires = now.Add(min(a.ttl, maxNegativeTTL))
	default:
		return
	}
	a.cache.put(key, cacheEntry{session: s, err: err, expires: expires}, generation, now)
}

// whoami asks Kratos for the session cred belongs to.
func (a *Authenticator) whoami(ctx context.Context, cred Credential) (Session, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.whoamiURL, nil)
	if err != nil {
		return Session{}, apierr.Internal(err)
	}
	req.Header.Set("Accept", "application/json")
	if cred.Token != "" {
		req.Header.Set("X-Session-Token", cred.Token)
	} else {
		req.Header.Set("Cookie", CookieName+"="+cred.Cookie)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return Session{}, apierr.Unavailable("Kratos", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return Session{}, errUnauthenticated
	default:
		return Session{}, apierr.Unavailable("Kratos", fmt.Errorf("whoami answered %s", resp.Status))
	}
	var ks KratosSession
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ks); err != nil {
		return Session{}, apierr.Unavailable("Kratos", fmt.Errorf("decode whoami answer: %w", err))
	}
	if !ks.Active {
		return Session{}, errUnauthenticated
	}
	if ks.ID == "" || ks.Identity.ID == "" {
		return Session{}, apierr.Unavailable("Kratos", fmt.Errorf("whoami answered a session without id or identity id"))
	}
	return Session{ID: ks.ID, Identity: ks.Identity.Identity(), Credential: cred, ExpiresAt: ks.ExpiresAt}, nil
}

// credentialFrom finds the request's credential: a bearer token, else an
// X-Session-Token, else the Kratos session cookie.
func credentialFrom(r *http.Request) (Credential, bool) {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if token = strings.TrimSpace(token); token != "" {
			return Credential{Token: token}, true
		}
	}
	if token := strings.TrimSpace(r.Header.Get("X-Session-Token")); token != "" {
		return Credential{Token: token}, true
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return Credential{Cookie: c.Value}, true
	}
	return Credential{}, false
}
