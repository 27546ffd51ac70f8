// Package ports is the orders service's edge: the /api/orders endpoints of the
// API conventions (docs/architecture.md) with their OpenAPI document, and the
// handlers of the events it consumes.
package ports

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/pkg/pagination"
)

//go:embed openapi.json
var openAPIDocument []byte

// Sessions is the session middleware, as the port needs it.
type Sessions interface {
	// Require is middleware admitting only requests with a valid session.
	Require() gin.HandlerFunc
}

// HTTPServer serves the orders API.
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
	orders := r.Group("/api/orders")
	orders.GET("/openapi.json", openAPI)
	orders.POST("", h.sessions.Require(), h.createOrder)
	orders.GET("", h.sessions.Require(), h.listOrders)
	orders.GET("/:id", h.sessions.Require(), h.getOrder)
	orders.DELETE("/:id", h.sessions.Require(), h.cancelOrder)
}

func openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
