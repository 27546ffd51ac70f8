package ports

import (
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
)

type createPaymentRequest struct {
	OrderID       string  `json:"orderId"`
	PaymentMethod *string `json:"paymentMethod"`
}

// paymentResponse is a payment as its viewer may see it: the client secret
// only for the buyer; stripeId once Stripe created the PaymentIntent (a
// free order has none).
type paymentResponse struct {
	ID           string          `json:"id"`
	OrderID      string          `json:"orderId"`
	UserID       string          `json:"userId"`
	StripeID     string          `json:"stripeId,omitempty"`
	ClientSecret string          `json:"clientSecret,omitempty"`
	Status       string          `json:"status"`
	Amount       int64           `json:"amount"`
	Currency     string          `json:"currency"`
	Version      int64           `json:"version"`
	CreatedAt    time.Time       `json:"createdAt"`
	Review       *reviewResponse `json:"review,omitempty"`
}

// reviewResponse is why a payment was held for review, and how an admin
// resolved it.
type reviewResponse struct {
	Reasons    []domain.Mismatch `json:"reasons"`
	EventID    string            `json:"eventId"`
	Amount     int64             `json:"amount"`
	Currency   string            `json:"currency"`
	HeldAt     time.Time         `json:"heldAt"`
	Resolution string            `json:"resolution,omitempty"`
	ResolvedBy string            `json:"resolvedBy,omitempty"`
	ResolvedAt *time.Time        `json:"resolvedAt,omitempty"`
}

type listResponse struct {
	Items []paymentResponse `json:"items"`
	Next  *string           `json:"next"`
}

type resolveRequest struct {
	Action string `json:"action"`
}

// paymentMethodPattern accepts Stripe PaymentMethod ids (pm_…, test ones
// such as pm_card_visa included).
var paymentMethodPattern = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,250}$`)

// createPayment answers 201 with a new payment, 200 with the order's
// existing one. A body-less POST reads as {} so that the answer names the
// missing orderId.
func (h HTTPServer) createPayment(c *gin.Context) {
	var req createPaymentRequest
	if c.Request.ContentLength != 0 || c.GetHeader("Content-Type") != "" {
		if err := httpserver.BindJSON(c, &req); err != nil {
			httpserver.WriteError(c, err)
			return
		}
	}
	orderID, err := domain.ParseID("orderId", req.OrderID)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	cmd := app.CreatePayment{UserID: userID(c), OrderID: orderID}
	if req.PaymentMethod != nil {
		if !paymentMethodPattern.MatchString(*req.PaymentMethod) {
			httpserver.WriteError(c, apierr.Validation(apierr.Field("paymentMethod", "must be a Stripe PaymentMethod id (pm_…)")))
			return
		}
		cmd.PaymentMethod = *req.PaymentMethod
	}
	p, created, err := h.app.CreatePayment.Handle(c.Request.Context(), cmd)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, paymentBody(p, cmd.UserID))
}

// findPayments serves GET /api/payments: ?orderId= is the order's payment
// (whoever may view it); ?status=[&limit=&cursor=] is a page of the
// payments in that status, for admins (the payments held for review).
func (h HTTPServer) findPayments(c *gin.Context) {
	_, byOrder := c.GetQuery("orderId")
	_, byStatus := c.GetQuery("status")
	switch {
	case byOrder && byStatus:
		httpserver.WriteError(c, apierr.Validation(apierr.Field("status", "cannot be combined with orderId")))
	case byStatus:
		h.listPayments(c)
	default:
		h.paymentOfOrder(c)
	}
}

// listPayments serves GET /api/payments?status=&limit=&cursor=. A cursor
// is valid only for the status that issued it.
func (h HTTPServer) listPayments(c *gin.Context) {
	status, err := domain.ParseStatus("status", c.Query("status"))
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	scope := "payments?status=" + string(status)
	page, err := h.cursors.Parse(c.Query("limit"), c.Query("cursor"), scope)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	uid := userID(c)
	payments, err := h.app.ListPayments.Handle(c.Request.Context(), app.ListPayments{UserID: uid, Status: status, Limit: page.Limit, After: page.After})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	body := listResponse{Items: make([]paymentResponse, len(payments))}
	last := ""
	for i, p := range payments {
		body.Items[i] = paymentBody(p, uid)
		last = p.ID()
	}
	body.Next = h.cursors.Next(page, len(payments), last, scope)
	c.JSON(http.StatusOK, body)
}

func (h HTTPServer) paymentOfOrder(c *gin.Context) {
	orderID, err := domain.ParseID("orderId", c.Query("orderId"))
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	uid := userID(c)
	p, err := h.app.GetPayment.ByOrder(c.Request.Context(), uid, orderID)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, paymentBody(p, uid))
}

func (h HTTPServer) getPayment(c *gin.Context) {
	id, err := domain.ParseID("id", c.Param("id"))
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	uid := userID(c)
	p, err := h.app.GetPayment.ByID(c.Request.Context(), uid, id)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, paymentBody(p, uid))
}

// refundPayment needs no body; one sent is ignored.
func (h HTTPServer) refundPayment(c *gin.Context) {
	id, err := domain.ParseID("id", c.Param("id"))
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	uid := userID(c)
	p, err := h.app.RefundPayment.Handle(c.Request.Context(), uid, id)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, paymentBody(p, uid))
}

// resolvePayment serves POST /api/payments/:id/resolve {action: accept |
// refund}, an admin's decision about a payment held for review.
func (h HTTPServer) resolvePayment(c *gin.Context) {
	id, err := domain.ParseID("id", c.Param("id"))
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	var req resolveRequest
	if c.Request.ContentLength != 0 || c.GetHeader("Content-Type") != "" {
		if err := httpserver.BindJSON(c, &req); err != nil {
			httpserver.WriteError(c, err)
			return
		}
	}
	action, err := domain.ParseResolution("action", req.Action)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	uid := userID(c)
	p, err := h.app.ResolvePayment.Handle(c.Request.Context(), app.ResolvePayment{UserID: uid, PaymentID: id, Action: action})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, paymentBody(p, uid))
}

// userID is the caller's identity id, behind sessions.Require.
func userID(c *gin.Context) string {
	id, _ := session.IdentityFrom(c.Request.Context())
	return id.ID
}

func paymentBody(p *domain.Payment, viewer string) paymentResponse {
	return paymentResponse{
		ID: p.ID(), OrderID: p.OrderID(), UserID: p.UserID(), StripeID: p.StripeID(),
		ClientSecret: p.ClientSecretFor(viewer), Status: string(p.Status()),
		Amount: p.Amount(), Currency: p.Currency(), Version: p.Version(), CreatedAt: p.CreatedAt(),
		Review: reviewBody(p.Review()),
	}
}

func reviewBody(r *domain.Review) *reviewResponse {
	if r == nil {
		return nil
	}
	out := &reviewResponse{
		Reasons: r.Reasons, EventID: r.EventID, Amount: r.Amount, Currency: r.Currency, HeldAt: r.HeldAt,
		Resolution: string(r.Resolution), ResolvedBy: r.ResolvedBy,
	}
	if !r.ResolvedAt.IsZero() {
		out.ResolvedAt = &r.ResolvedAt
	}
	return out
}
