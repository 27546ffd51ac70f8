// Package httpclient builds the HTTP client services use to call their
// dependencies (Kratos, Keto): bounded timeouts so a slow dependency never
// hangs a request, and enough idle connections per host that a busy service
// reuses them instead of dialling for every call. Calls go direct, never
// through an HTTP proxy from the environment: the dependencies are internal.
package httpclient

import (
	"net"
	"net/http"
	"time"
)

// New returns a client whose every call ends within timeout. It does not
// follow redirects: an API that redirects is misconfigured, and following
// would forward credentials to wherever it points.
func New(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   3 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
