package session

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

var errNoSession = apierr.Unauthenticated("a session is required: sign in and send its token")

// Require is middleware that answers 401 unless the request carries a valid
// session, which it stores in the request context (see FromContext).
func (a *Authenticator) Require() gin.HandlerFunc {
	return a.middleware(true)
}

// Optional is middleware that stores the session of a request that carries a
// valid one, and lets requests without one (or with one Kratos refuses)
// through anonymously. Kratos being unavailable is still a 503: a signed-in
// caller must not be served as anonymous.
func (a *Authenticator) Optional() gin.HandlerFunc {
	return a.middleware(false)
}

func (a *Authenticator) middleware(required bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		cred, ok := credentialFrom(c.Request)
		if !ok {
			if required {
				httpserver.WriteError(c, errNoSession)
				return
			}
			c.Next()
			return
		}
		if cred.FromCookie() && !httpserver.SafeMethod(c.Request.Method) {
			if err := a.checkOrigin(c.Request); err != nil {
				httpserver.WriteError(c, err)
				return
			}
		}
		s, err := a.Authenticate(c.Request.Context(), cred)
		if err != nil {
			if !required && apierr.KindOf(err) == apierr.KindUnauthenticated {
				c.Next()
				return
			}
			httpserver.WriteError(c, err)
			return
		}
		c.Request = c.Request.WithContext(NewContext(c.Request.Context(), s))
		c.Set(ginKey, s)
		c.Next()
	}
}
