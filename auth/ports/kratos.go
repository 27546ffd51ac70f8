package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
)

// KratosPrefix is where nginx publishes Kratos' public API, through auth.
const KratosPrefix = "/.ory/kratos"

// selfServiceFlows are Kratos' self-service flows a browser or an app may
// run. Each has …/browser and …/api (start), …/flows (read) and the
// submission endpoint itself.
var selfServiceFlows = []string{"login", "registration", "settings", "recovery", "verification"}

// kratosEndpoint is one Kratos public endpoint the pass-through forwards.
type kratosEndpoint struct {
	method string
	path   string
	// flow names the self-service flow a submission belongs to ("" for
	// endpoints that submit nothing).
	flow string
}

// kratosEndpoints are the only Kratos endpoints reachable from outside
// (the list in ory/README.md): starting, reading and submitting the
// self-service flows, signing out, the error page's data and whoami.
// Everything else — admin, identities, schemas, sessions listing, health,
// metrics — answers 404.
var kratosEndpoints = func() map[string]kratosEndpoint {
	eps := []kratosEndpoint{
		{http.MethodGet, "/self-service/logout/browser", ""},
		{http.MethodGet, "/self-service/logout", ""},
		{http.MethodDelete, "/self-service/logout/api", ""},
		{http.MethodGet, "/self-service/errors", ""},
		{http.MethodGet, "/sessions/whoami", ""},
	}
	for _, f := range selfServiceFlows {
		base := "/self-service/" + f
		eps = append(eps,
			kratosEndpoint{http.MethodGet, base + "/browser", ""},
			kratosEndpoint{http.MethodGet, base + "/api", ""},
			kratosEndpoint{http.MethodGet, base + "/flows", ""},
			kratosEndpoint{http.MethodPost, base, f},
		)
	}
	// A recovery or verification link in an email is opened with GET.
	for _, f := range []string{"recovery", "verification"} {
		eps = append(eps, kratosEndpoint{http.MethodGet, "/self-service/" + f, f})
	}
	m := make(map[string]kratosEndpoint, len(eps))
	for _, ep := range eps {
		m[ep.method+" "+ep.path] = ep
	}
	return m
}()

// maxSubmissionBytes bounds a self-service submission read into memory
// (nginx bounds every body as well).
const maxSubmissionBytes = 64 << 10

var errNoKratosEndpoint = apierr.NotFound("not_found", "no such resource")

// submissionFields are the fields each flow's submission is read for: the
// method, the account it names, and the password it checks or sets. Each
// must be a JSON string (readSubmission).
var submissionFields = map[string][]string{
	"login":        {"method", "identifier", "password_identifier", "password"},
	"registration": {"method", "password", "traits.email"},
	"settings":     {"method", "password"},
	"recovery":     {"email"},
	"verification": {"email"},
}

// attemptKinds say which limits each flow's submissions get.
var attemptKinds = map[string]app.AttemptKind{
	"login":        app.PasswordCheck,
	"registration": app.AccountMail,
	"settings":     app.AccountChange,
	"recovery":     app.AccountMail,
	"verification": app.AccountMail,
}

// identifierFields name every field Kratos reads as the account a
// submission is about, in Kratos' order of preference: its login takes
// `identifier`, or the legacy `password_identifier` when that is empty.
var identifierFields = map[string][]string{
	"login":        {"identifier", "password_identifier"},
	"registration": {"traits.email"},
	"recovery":     {"email"},
	"verification": {"email"},
}

// KratosPassThrough forwards the public Kratos endpoints browsers and apps
// need, and only those, to Kratos' public API. nginx cannot read a body, so
// this is where submissions are limited per address and per account (the
// same limits as auth's own sign-in and sign-up) and where a new password
// meets the sign-up password rule. Cookies, CSRF tokens, redirects and
// Kratos' own answers pass through untouched, except redirects to Kratos'
// internal address, which are rewritten to the public one.
type KratosPassThrough struct {
	attempts *app.Attempts
	proxy    *httputil.ReverseProxy
}

type attemptKey struct{}

// NewKratosPassThrough forwards to Kratos' public API at kratosURL (an
// internal address), through transport; publicURL is the site's address,
// under which Kratos is published at KratosPrefix.
func NewKratosPassThrough(kratosURL, publicURL string, transport http.RoundTripper, attempts *app.Attempts) (*KratosPassThrough, error) {
	target, err := url.Parse(strings.TrimSuffix(kratosURL, "/"))
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("kratos pass-through: bad Kratos URL %q", kratosURL)
	}
	internal, public := target.String(), strings.TrimSuffix(publicURL, "/")+KratosPrefix
	k := &KratosPassThrough{attempts: attempts}
	k.proxy = &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
			r.Out.URL.Path = target.Path + strings.TrimPrefix(r.In.URL.Path, KratosPrefix)
			r.Out.URL.RawPath = ""
			r.Out.Host = r.In.Host
			// nginx's view of the request, so that Kratos' request_url
			// and the session's device address are the client's.
			for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
				if v := r.In.Header.Values(h); len(v) > 0 {
					r.Out.Header[h] = v
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, internal) {
				resp.Header.Set("Location", public+strings.TrimPrefix(loc, internal))
			}
			if at, ok := resp.Request.Context().Value(attemptKey{}).(app.Attempt); ok {
				k.attempts.Record(resp.Request.Context(), at, loginOutcome(resp))
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			body := apierr.BodyOf(apierr.Unavailable("Kratos", err))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(body)
		},
	}
	return k, nil
}

// Register routes KratosPrefix to the pass-through.
func (k *KratosPassThrough) Register(r gin.IRouter) {
	r.Any(KratosPrefix+"/*path", k.serve)
}

func (k *KratosPassThrough) serve(c *gin.Context) {
	ep, ok := kratosEndpoints[c.Request.Method+" "+c.Param("path")]
	if !ok {
		httpserver.WriteError(c, errNoKratosEndpoint)
		return
	}
	c.Request.Header.Set("X-Forwarded-For", c.ClientIP())
	if ep.flow != "" {
		at, err := k.admit(c, ep.flow)
		if err != nil {
			httpserver.WriteError(c, err)
			return
		}
		if ep.flow == "login" {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), attemptKey{}, at))
		}
	}
	k.proxy.ServeHTTP(c.Writer, c.Request)
}

// admit reads a submission (leaving the body in place for Kratos), applies
// the password rule to a newly chosen password and counts the attempt.
func (k *KratosPassThrough) admit(c *gin.Context, flow string) (app.Attempt, error) {
	at := app.Attempt{Kind: attemptKinds[flow], Address: c.ClientIP()}
	// Kratos' recovery and verification read their fields from the query
	// string as well as the body; the pass-through reads the body only.
	for name := range c.Request.URL.Query() {
		for _, field := range submissionFields[flow] {
			if strings.EqualFold(name, field) {
				return at, apierr.Validation(apierr.Field(field, "must be sent in the body, not in the query string"))
			}
		}
	}
	fields := submission{}
	if c.Request.Method == http.MethodPost {
		body, mediaType, err := readSubmissionBody(c)
		if err != nil {
			return at, err
		}
		if fields, err = readSubmission(mediaType, body, submissionFields[flow]...); err != nil {
			return at, err
		}
	}
	// A submission uses the password method when it says so or carries a
	// password: either way the password is checked (login) or set, so the
	// account is named and a new password meets the rule.
	usesPassword := fields["method"] == "password" || fields["password"] != ""
	if (flow == "registration" || flow == "settings") && usesPassword {
		if err := domain.CheckNewPassword("password", fields["password"]); err != nil {
			return at, err
		}
	}
	account, err := accountOf(fields, identifierFields[flow], usesPassword && flow != "settings")
	if err != nil {
		return at, err
	}
	at.Identifier = account
	return at, k.attempts.Admit(c.Request.Context(), at)
}

// readSubmissionBody reads a submission's body under its media type
// (httpserver.MediaType: exactly one, JSON or a form, UTF-8) and puts both
// back for Kratos: the body as read, the Content-Type as checked, so that
// Kratos reads the body as the pass-through did.
func readSubmissionBody(c *gin.Context) ([]byte, string, error) {
	mediaType, err := httpserver.MediaType(c.Request.Header, jsonSubmission, formSubmission)
	if err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxSubmissionBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, "", apierr.TooLarge(fmt.Sprintf("a self-service submission must be at most %d bytes", maxSubmissionBytes))
		}
		return nil, "", apierr.Invalid("unreadable_body", "the request body could not be read").WithCause(err)
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Request.ContentLength = int64(len(body))
	c.Request.TransferEncoding = nil
	c.Request.Header.Set("Content-Type", mediaType)
	return body, mediaType, nil
}

// accountOf is the account a submission names, normalised as Kratos
// normalises identifiers, or "" when it names none. Every field Kratos might
// read it from (names, in Kratos' order) must name the same account: were
// they to differ, the limits could count one account while Kratos checks
// another. required refuses a submission that names no account (a password
// login), so that no field the pass-through does not know of can carry the
// account past the limits.
func accountOf(fields submission, names []string, required bool) (string, error) {
	account, from := "", ""
	for _, name := range names {
		v, ok := fields[name]
		if !ok {
			continue
		}
		if from != "" && domain.NormalizeEmail(v) != account {
			return "", apierr.Validation(apierr.Field(name, "must name the same account as "+from+" when both are given"))
		}
		account, from = domain.NormalizeEmail(v), name
	}
	if account == "" && required && len(names) > 0 {
		return "", apierr.Validation(apierr.Field(names[0], "is required"))
	}
	return account, nil
}

// loginOutcome reads Kratos' answer to a login submission: 200 (JSON) or a
// redirect that sets the session cookie (a form) signed in; 400 (JSON) or a
// redirect without a session (a form, sent back to the login page) refused
// the credentials; anything else (an expired flow, a CSRF failure answered
// 403, a server error) decides nothing.
func loginOutcome(resp *http.Response) app.Outcome {
	switch {
	case resp.StatusCode == http.StatusOK:
		return app.Succeeded
	case resp.StatusCode == http.StatusBadRequest:
		return app.Failed
	case resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound:
		for _, c := range resp.Cookies() {
			if c.Name == session.CookieName && c.Value != "" {
				return app.Succeeded
			}
		}
		return app.Failed
	}
	return app.Undecided
}
