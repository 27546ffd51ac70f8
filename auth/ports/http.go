// Package ports is auth's HTTP port: the /api/users endpoints (auth/README.md)
// and the service's OpenAPI document.
package ports

import (
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/pkg/session"
)

// WebhookKeyHeader carries the shared secret of Kratos' web hook.
const WebhookKeyHeader = "X-Ory-API-Key"

//go:embed openapi.json
var openAPIDocument []byte

// Sessions is the session middleware and cache, as the port needs them.
type Sessions interface {
	// Require is middleware admitting only requests with a valid session.
	Require() gin.HandlerFunc
	// Forget drops a signed-out credential from the cache at once.
	Forget(session.Credential)
}

// HTTPServer serves auth's API.
type HTTPServer struct {
	app         app.Application
	sessions    Sessions
	webhookHash [sha256.Size]byte
}

// NewHTTPServer returns the port for application; webhookKey is the secret
// Kratos' after-registration web hook must send.
func NewHTTPServer(application app.Application, sessions Sessions, webhookKey string) HTTPServer {
	return HTTPServer{app: application, sessions: sessions, webhookHash: sha256.Sum256([]byte(webhookKey))}
}

// Register adds the routes to r.
func (h HTTPServer) Register(r gin.IRouter) {
	users := r.Group("/api/users")
	users.POST("/sign-up", h.signUp)
	users.POST("/sign-in", h.signIn)
	users.POST("/sign-out", h.sessions.Require(), h.signOut)
	users.GET("/current-user", h.sessions.Require(), h.currentUser)
	users.POST("/on-sign-up", h.onSignUp)
	users.GET("/openapi.json", openAPI)
}

// validWebhookKey compares in constant time: digests of equal length, so
// neither the key's content nor its length leaks through timing.
func (h HTTPServer) validWebhookKey(got string) bool {
	digest := sha256.Sum256([]byte(got))
	return got != "" && subtle.ConstantTimeCompare(digest[:], h.webhookHash[:]) == 1
}

func openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
