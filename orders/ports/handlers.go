package ports

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
)

var errNoTicketID = apierr.Validation(apierr.Field("ticketId", "is required"))

type createOrderRequest struct {
	TicketID *string `json:"ticketId"`
}

type ticketResponse struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	// UserID is the seller's identity id (public on the ticket too).
	UserID  string `json:"userId"`
	Version int64  `json:"version"`
}

type orderResponse struct {
	ID        string         `json:"id"`
	Status    string         `json:"status"`
	ExpiresAt time.Time      `json:"expiresAt"`
	Ticket    ticketResponse `json:"ticket"`
	UserID    string         `json:"userId"`
	PaymentID string         `json:"paymentId,omitempty"`
	// CancelReason says why the system cancelled the order, if it did.
	CancelReason string    `json:"cancelReason,omitempty"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"createdAt"`
}

type listResponse struct {
	Items []orderResponse `json:"items"`
	Next  *string         `json:"next"`
}

func (h HTTPServer) createOrder(c *gin.Context) {
	var req createOrderRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	if req.TicketID == nil {
		httpserver.WriteError(c, errNoTicketID)
		return
	}
	order, err := h.app.CreateOrder.Handle(c.Request.Context(), app.CreateOrder{BuyerID: userID(c), TicketID: *req.TicketID})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusCreated, orderBody(order))
}

func (h HTTPServer) getOrder(c *gin.Context) {
	order, err := h.app.GetOrder.Handle(c.Request.Context(), app.GetOrder{UserID: userID(c), OrderID: c.Param("id")})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, orderBody(order))
}

func (h HTTPServer) cancelOrder(c *gin.Context) {
	order, err := h.app.CancelOrder.Handle(c.Request.Context(), app.CancelOrder{UserID: userID(c), OrderID: c.Param("id")})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, orderBody(order))
}

// listOrders serves GET /api/orders[?as=buyer|seller&limit=&cursor=]. A
// cursor is valid only for the list (role and user) that issued it.
func (h HTTPServer) listOrders(c *gin.Context) {
	role := domain.Role(c.DefaultQuery("as", string(domain.RoleBuyer)))
	if role != domain.RoleBuyer && role != domain.RoleSeller {
		httpserver.WriteError(c, apierr.Validation(apierr.Field("as", "must be buyer or seller")))
		return
	}
	uid := userID(c)
	scope := "orders?as=" + string(role) + "&user=" + uid
	page, err := h.cursors.Parse(c.Query("limit"), c.Query("cursor"), scope)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	orders, err := h.app.ListOrders.Handle(c.Request.Context(), app.ListOrders{Role: role, UserID: uid, Limit: page.Limit, After: page.After})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	body := listResponse{Items: make([]orderResponse, len(orders))}
	last := ""
	for i, o := range orders {
		body.Items[i] = orderBody(o)
		last = o.ID()
	}
	body.Next = h.cursors.Next(page, len(orders), last, scope)
	c.JSON(http.StatusOK, body)
}

// userID is the caller's identity id; the routes sit behind Require.
func userID(c *gin.Context) string {
	id, _ := session.IdentityFrom(c.Request.Context())
	return id.ID
}

func orderBody(o *domain.Order) orderResponse {
	t := o.Ticket()
	return orderResponse{
		ID: o.ID(), Status: string(o.Status()), ExpiresAt: o.ExpiresAt(), UserID: o.BuyerID(),
		Ticket:    ticketResponse{ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency, UserID: t.SellerID, Version: t.Version},
		PaymentID: o.PaymentID(), CancelReason: o.CancelReason(), Version: o.Version(), CreatedAt: o.CreatedAt(),
	}
}
