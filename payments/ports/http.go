// Package ports is the payments service's input: the /api/payments endpoints
// (README.md of the service) (Stripe's webhook among them), the order events
// from RabbitMQ, and the service's OpenAPI document.
package ports

import (
	_ "embed"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/pkg/pagination"
)

//go:embed openapi.json
var openAPIDocument []byte

// Sessions is the session middleware, as the port needs it.
type Sessions interface {
	// Require is middleware admitting only requests with a valid session.
	Require() gin.HandlerFunc
}

// HTTPServer serves the payments API.
type HTTPServer struct {
	app           app.Application
	sessions      Sessions
	webhookSecret string
	cursors       *pagination.Signer
	logger        *slog.Logger
}

// NewHTTPServer returns the port for application; webhookSecret is the
// Stripe endpoint's signing secret (whsec_…), cursors signs the list
// cursors.
func NewHTTPServer(application app.Application, sessions Sessions, webhookSecret string, cursors *pagination.Signer, logger *slog.Logger) HTTPServer {
	return HTTPServer{app: application, sessions: sessions, webhookSecret: webhookSecret, cursors: cursors, logger: logger}
}

// Register adds the routes to r.
func (h HTTPServer) Register(r gin.IRouter) {
	payments := r.Group("/api/payments")
	payments.POST("", h.sessions.Require(), h.createPayment)
	payments.GET("", h.sessions.Require(), h.findPayments)
	payments.POST("/webhook", h.webhook)
	payments.GET("/openapi.json", openAPI)
	payments.GET("/:id", h.sessions.Require(), h.getPayment)
	payments.POST("/:id/refund", h.sessions.Require(), h.refundPayment)
	payments.POST("/:id/resolve", h.sessions.Require(), h.resolvePayment)
}

func openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
