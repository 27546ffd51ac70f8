package ports

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/session"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

var errMineNeedsSession = apierr.Unauthenticated("?mine=true lists the caller's tickets: a session is required")

// listResponse is a page of a list (docs/architecture.md, "API conventions").
type listResponse struct {
	Items []ticketResponse `json:"items"`
	Next  *string          `json:"next"`
}

// listQuery is GET /api/tickets' validated query.
type listQuery struct {
	sellerID string
	title    domain.TitleSearch
	page     pagination.Page
}

// listTickets answers GET /api/tickets: available tickets, or with
// ?mine=true the caller's in every status; ?title= searches.
func (h HTTPServer) listTickets(c *gin.Context) {
	q, err := h.parseListQuery(c)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	page, err := h.app.ListTickets.Handle(c.Request.Context(), app.ListTickets{
		SellerID: q.sellerID, Title: q.title, After: q.page.After, Limit: q.page.Limit,
	})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	body := listResponse{Items: make([]ticketResponse, len(page.Tickets))}
	for i, t := range page.Tickets {
		// The caller's own tickets show their orders; the public list
		// (available tickets) never does.
		body.Items[i] = ticketBody(t)
		if q.sellerID == "" {
			body.Items[i] = publicBody(body.Items[i])
		}
	}
	if page.More {
		last := page.Tickets[len(page.Tickets)-1].ID()
		body.Next = h.cursors.Next(q.page, len(page.Tickets), last, q.scope())
	}
	c.JSON(http.StatusOK, body)
}

// parseListQuery validates every parameter and reports every problem at
// once (a parameter given twice never gets here: the shared engine refuses
// it). ?mine=true without a session is 401.
func (h HTTPServer) parseListQuery(c *gin.Context) (listQuery, error) {
	values := c.Request.URL.Query()
	var problems []apierr.FieldError
	addProblem := func(err error) {
		if e, ok := apierr.As(err); ok && e.Kind == apierr.KindInvalid && len(e.Fields) > 0 {
			problems = append(problems, e.Fields...)
		}
	}
	var q listQuery
	mine, err := parseMine(values)
	addProblem(err)
	if mine {
		user, ok := session.IdentityFrom(c.Request.Context())
		if !ok {
			return listQuery{}, errMineNeedsSession
		}
		q.sellerID = user.ID
	}
	q.title, err = domain.NewTitleSearch(values.Get("title"))
	addProblem(err)

	// A cursor is checked against the list it was issued for, which is
	// known only when the filters are valid.
	cursor := values.Get("cursor")
	if len(problems) > 0 {
		cursor = ""
	}
	q.page, err = h.cursors.Parse(values.Get("limit"), cursor, q.scope())
	addProblem(err)
	if len(problems) > 0 {
		return listQuery{}, apierr.Validation(problems...)
	}
	return q, nil
}

func parseMine(values url.Values) (bool, error) {
	switch values.Get("mine") {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, apierr.Validation(apierr.Field("mine", "must be true or false"))
}

// scope names the list and its filters for cursors: a cursor is valid only
// for the list (and, with mine, the caller) that issued it.
func (q listQuery) scope() string {
	return "tickets?mine=" + url.QueryEscape(q.sellerID) + "&title=" + url.QueryEscape(string(q.title))
}
