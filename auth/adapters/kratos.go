// Package adapters implements auth's outbound ports: the Kratos identity
// server and the Mongo user repository.
package adapters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/session"
)

// maxKratosAnswer bounds how much of an answer is read.
const maxKratosAnswer = 1 << 20

// KratosClient runs Kratos' native (API) self-service flows on the public
// API and session and identity administration on the admin API.
type KratosClient struct {
	public *url.URL
	admin  *url.URL
	http   *http.Client
}

var _ app.IdentityProvider = (*KratosClient)(nil)

// NewKratosClient returns a client for the Kratos at publicURL and adminURL,
// calling it with httpClient (see package httpclient).
func NewKratosClient(publicURL, adminURL string, httpClient *http.Client) (*KratosClient, error) {
	public, err := url.Parse(publicURL)
	if err != nil || public.Host == "" {
		return nil, fmt.Errorf("kratos: invalid public URL %q", publicURL)
	}
	admin, err := url.Parse(adminURL)
	if err != nil || admin.Host == "" {
		return nil, fmt.Errorf("kratos: invalid admin URL %q", adminURL)
	}
	return &KratosClient{public: public, admin: admin, http: httpClient}, nil
}

// traits are the identity schema's traits, as registration sends them.
type traits struct {
	Email string     `json:"email"`
	Name  *nameTrait `json:"name,omitempty"`
}

type nameTrait struct {
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

// nativeSuccess is Kratos' answer to a completed native login or
// registration.
type nativeSuccess struct {
	SessionToken string                  `json:"session_token"`
	Session      session.KratosSession   `json:"session"`
	Identity     *session.KratosIdentity `json:"identity"`
}

// Register runs a native registration flow with the password method.
func (k *KratosClient) Register(ctx context.Context, r domain.Registration) (app.SignedIn, error) {
	t := traits{Email: r.Email()}
	if n := r.Name(); !n.IsZero() {
		t.Name = &nameTrait{First: n.First, Last: n.Last}
	}
	return k.completeFlow(ctx, "registration", map[string]any{
		"method":   "password",
		"password": r.Password(),
		"traits":   t,
	})
}

// Login runs a native login flow with the password method.
func (k *KratosClient) Login(ctx context.Context, c domain.Credentials) (app.SignedIn, error) {
	return k.completeFlow(ctx, "login", map[string]any{
		"method":     "password",
		"identifier": c.Email(),
		"password":   c.Password(),
	})
}

// completeFlow creates a native flow of kind ("login", "registration") and
// submits body to it.
func (k *KratosClient) completeFlow(ctx context.Context, kind string, body any) (app.SignedIn, error) {
	var flow struct {
		ID string `json:"id"`
	}
	status, raw, err := k.call(ctx, http.MethodGet, k.public.JoinPath("self-service", kind, "api"), nil)
	if err != nil {
		return app.SignedIn{}, err
	}
	if status != http.StatusOK {
		return app.SignedIn{}, unexpected("create "+kind+" flow", status, raw)
	}
	if err := json.Unmarshal(raw, &flow); err != nil || flow.ID == "" {
		return app.SignedIn{}, apierr.Unavailable("Kratos", fmt.Errorf("create %s flow: no flow id in %q", kind, raw))
	}

	submit := k.public.JoinPath("self-service", kind)
	submit.RawQuery = url.Values{"flow": {flow.ID}}.Encode()
	status, raw, err = k.call(ctx, http.MethodPost, submit, body)
	switch {
	case err != nil:
		return app.SignedIn{}, err
	case status == http.StatusBadRequest:
		return app.SignedIn{}, flowRefusal(kind, raw)
	case status == http.StatusBadGateway && webhookConflict(raw):
		// auth's own registration web hook refused the user (and removed
		// the identity Kratos had saved): the email is another account's.
		return app.SignedIn{}, domain.ErrEmailTaken
	case status != http.StatusOK:
		return app.SignedIn{}, unexpected("submit "+kind+" flow", status, raw)
	}
	return signedIn(kind, raw)
}

func signedIn(kind string, raw []byte) (app.SignedIn, error) {
	var ok nativeSuccess
	if err := json.Unmarshal(raw, &ok); err != nil {
		return app.SignedIn{}, apierr.Unavailable("Kratos", fmt.Errorf("decode %s answer: %w", kind, err))
	}
	if ok.SessionToken == "" {
		return app.SignedIn{}, apierr.Internal(fmt.Errorf(
			"kratos: %s answered without a session token: enable the session hook after registration", kind))
	}
	identity := ok.Session.Identity
	if ok.Identity != nil {
		identity = *ok.Identity
	}
	user, err := userOf(kind, identity)
	if err != nil {
		return app.SignedIn{}, err
	}
	return app.SignedIn{User: user, Token: ok.SessionToken}, nil
}

// userOf converts an identity Kratos answered what with.
func userOf(what string, identity session.KratosIdentity) (*domain.User, error) {
	id := identity.Identity()
	var name domain.Name
	if id.Name != nil {
		name = domain.Name{First: id.Name.First, Last: id.Name.Last}
	}
	user, err := domain.NewUser(id.ID, id.Email, name)
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("kratos: %s answered an identity auth cannot use: %w", what, err))
	}
	return user, nil
}

// RevokeToken ends a token's session (native logout). Kratos answers 403 for
// a token it does not know: that session is already over.
func (k *KratosClient) RevokeToken(ctx context.Context, token string) error {
	status, raw, err := k.call(ctx, http.MethodDelete, k.public.JoinPath("self-service", "logout", "api"),
		map[string]string{"session_token": token})
	if err != nil {
		return err
	}
	switch status {
	case http.StatusNoContent, http.StatusOK, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return nil
	}
	return unexpected("native logout", status, raw)
}

// RevokeSession ends a session by id with the admin API.
func (k *KratosClient) RevokeSession(ctx context.Context, sessionID string) error {
	status, raw, err := k.call(ctx, http.MethodDelete, k.admin.JoinPath("admin", "sessions", sessionID), nil)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusNoContent, http.StatusOK, http.StatusNotFound:
		return nil
	}
	return unexpected("revoke session", status, raw)
}

// Identity asks the admin API for the identity.
func (k *KratosClient) Identity(ctx context.Context, id string) (*domain.User, error) {
	status, raw, err := k.call(ctx, http.MethodGet, k.admin.JoinPath("admin", "identities", id), nil)
	switch {
	case err != nil:
		return nil, err
	case status == http.StatusNotFound:
		return nil, domain.ErrIdentityNotFound
	case status != http.StatusOK:
		return nil, unexpected("get identity", status, raw)
	}
	var wire session.KratosIdentity
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, apierr.Unavailable("Kratos", fmt.Errorf("decode identity %s: %w", id, err))
	}
	return userOf("get identity", wire)
}

// DeleteIdentityCreatedWithin deletes the identity if Kratos created it at
// most window ago.
func (k *KratosClient) DeleteIdentityCreatedWithin(ctx context.Context, id string, window time.Duration) (bool, error) {
	identity := k.admin.JoinPath("admin", "identities", id)
	status, raw, err := k.call(ctx, http.MethodGet, identity, nil)
	switch {
	case err != nil:
		return false, err
	case status == http.StatusNotFound:
		return false, nil
	case status != http.StatusOK:
		return false, unexpected("get identity", status, raw)
	}
	var created struct {
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.CreatedAt.IsZero() {
		return false, apierr.Unavailable("Kratos", fmt.Errorf("identity %s: no creation time in %.256q (%v)", id, raw, err))
	}
	if time.Since(created.CreatedAt) > window {
		return false, nil
	}
	status, raw, err = k.call(ctx, http.MethodDelete, identity, nil)
	switch {
	case err != nil:
		return false, err
	case status == http.StatusNoContent:
		return true, nil
	case status == http.StatusNotFound:
		return false, nil
	}
	return false, unexpected("delete identity", status, raw)
}

// Ready reports whether Kratos is ready, for readiness checks. It asks the
// admin API's /admin/health/ready: Kratos v1 redirects /health/ready there,
// and this client follows no redirects.
func (k *KratosClient) Ready(ctx context.Context) error {
	status, raw, err := k.call(ctx, http.MethodGet, k.admin.JoinPath("admin", "health", "ready"), nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return unexpected("health/ready", status, raw)
	}
	return nil
}

// call sends a JSON request and returns the answer's status and body. Not
// reaching Kratos is apierr.Unavailable.
func (k *KratosClient) call(ctx context.Context, method string, u *url.URL, body any) (int, []byte, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, apierr.Internal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return 0, nil, apierr.Internal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return 0, nil, apierr.Unavailable("Kratos", fmt.Errorf("%s %s: %w", method, u.Path, err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxKratosAnswer))
	if err != nil {
		return 0, nil, apierr.Unavailable("Kratos", fmt.Errorf("%s %s: read answer: %w", method, u.Path, err))
	}
	return resp.StatusCode, raw, nil
}

// unexpected maps an answer the flow does not expect: a server error (or
// rate limit) means Kratos is unavailable; anything else means auth and
// Kratos disagree, a bug.
func unexpected(what string, status int, raw []byte) error {
	err := fmt.Errorf("kratos: %s answered %d: %.512s", what, status, raw)
	if status >= http.StatusInternalServerError || status == http.StatusTooManyRequests {
		return apierr.Unavailable("Kratos", err)
	}
	return apierr.Internal(err)
}
