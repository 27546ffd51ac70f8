package ports

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

// createTicketRequest is POST /api/tickets' body. Price is a pointer so a
// missing price is told apart from 0; a non-integer price (12.5, "12") is
// refused by the decoder, naming the field.
type createTicketRequest struct {
	Title    string `json:"title"`
	Price    *int64 `json:"price"`
	Currency string `json:"currency"`
}

// editTicketRequest is PATCH /api/tickets/:id's body; absent (or null)
// fields stay as they are.
type editTicketRequest struct {
	Title    *string `json:"title"`
	Price    *int64  `json:"price"`
	Currency *string `json:"currency"`
}

// ticketResponse is a ticket as clients see it.
type ticketResponse struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Price     int64     `json:"price"`
	Currency  string    `json:"currency"`
	Version   int64     `json:"version"`
	UserID    string    `json:"userId"`
	OrderID   string    `json:"orderId,omitempty"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

func (h HTTPServer) createTicket(c *gin.Context) {
	var req createTicketRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	user, _ := session.IdentityFrom(c.Request.Context()) // behind Require
	t, err := h.app.CreateTicket.Handle(c.Request.Context(), app.CreateTicket{
		SellerID: user.ID, Title: req.Title, Price: req.Price, Currency: req.Currency,
	})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.Header("Location", "/api/tickets/"+t.ID())
	c.JSON(http.StatusCreated, ticketBody(t))
}

func (h HTTPServer) getTicket(c *gin.Context) {
	viewer, _ := session.IdentityFrom(c.Request.Context()) // anonymous: no id
	view, err := h.app.GetTicket.Handle(c.Request.Context(), app.GetTicket{TicketID: c.Param("id"), ViewerID: viewer.ID})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	body := ticketBody(view.Ticket)
	if !view.ShowsOrder {
		body = publicBody(body)
	}
	c.JSON(http.StatusOK, body)
}

func (h HTTPServer) editTicket(c *gin.Context) {
	var req editTicketRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	user, _ := session.IdentityFrom(c.Request.Context()) // behind Require
	t, err := h.app.EditTicket.Handle(c.Request.Context(), app.EditTicket{
		TicketID: c.Param("id"), UserID: user.ID, Title: req.Title, Price: req.Price, Currency: req.Currency,
	})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, ticketBody(t))
}

// publicBody is a ticket as anyone but its seller and admins sees it: the
// order holding it is the buyer's private data.
func publicBody(b ticketResponse) ticketResponse {
	b.OrderID = ""
	return b
}

func ticketBody(t *domain.Ticket) ticketResponse {
	return ticketResponse{
		ID: t.ID(), Title: t.Title(), Price: t.Price(), Currency: t.Currency(), Version: t.Version(),
		UserID: t.SellerID(), OrderID: t.OrderID(), Status: string(t.Status()), CreatedAt: t.CreatedAt(),
	}
}
