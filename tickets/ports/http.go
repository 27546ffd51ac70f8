// Package ports is the tickets service's inbound side: the /api/tickets
// endpoints (README.md of the service) with the service's OpenAPI document, and
// the handlers of the order events it consumes.
package ports

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/tickets/app"
)

//go:embed openapi.json
var openAPIDocument []byte

// Sessions is the session middleware, as the port needs it.
type Sessions interface {
	// Require admits only requests with a valid session (else 401).
	Require() gin.HandlerFunc
	// Optional stores the session of a request that has one and lets
	// anonymous requests through.
	Optional() gin.HandlerFunc
}

// HTTPServer serves the tickets API.
type HTTPServer struct {
	app      app.Application
	sessions Sessions
	cursors  *pagination.Signer
}

// NewHTTPServer returns the port for application; cursors signs the list
// cursors.
func NewHTTPServer(application app.Application, sessions Sessions, cursors *pagination.Signer) HTTPServer {
	return HTTPServer{app: application, sessions: sessions, cursors: cursors}
}

// Register adds the routes to r.
func (h HTTPServer) Register(r gin.IRouter) {
	tickets := r.Group("/api/tickets")
	tickets.POST("", h.sessions.Require(), h.createTicket)
	tickets.GET("", h.sessions.Optional(), h.listTickets)
	tickets.GET("/openapi.json", openAPI)
	tickets.GET("/:id", h.sessions.Optional(), h.getTicket)
	tickets.PATCH("/:id", h.sessions.Require(), h.editTicket)
}

func openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
