package session

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ticketing/ticketing/pkg/apierr"
)

var errCSRF = apierr.Forbidden("csrf_failed",
	"a cookie-authenticated request that changes state must come from an allowed origin")

// allowedOrigins is the set of origins (scheme://host[:port]) from which
// cookie-authenticated writes are accepted.
func allowedOrigins(cfg Config) (map[string]bool, error) {
	origins := make(map[string]bool)
	for _, raw := range append([]string{cfg.PublicURL}, cfg.AllowedOrigins...) {
		if raw == "" {
			continue
		}
		o, ok := originOf(raw)
		if !ok {
			return nil, fmt.Errorf("session: invalid origin %q", raw)
		}
		origins[o] = true
	}
	return origins, nil
}

// checkOrigin is the CSRF defence for cookie-authenticated writes: the
// browser-set Origin (or, when absent, Referer) must name an allowed origin.
func (a *Authenticator) checkOrigin(r *http.Request) error {
	source := r.Header.Get("Origin")
	if source == "" {
		source = r.Header.Get("Referer")
	}
	if o, ok := originOf(source); ok && a.origins[o] {
		return nil
	}
	return errCSRF
}

// originOf is the normalised origin of an http(s) URL: lower-case scheme and
// host, default port dropped. "null" and other non-URLs have none.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	switch scheme {
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return "", false
	}
	return scheme + "://" + host, true
}
