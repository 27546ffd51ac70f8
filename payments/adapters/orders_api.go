package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/session"
)

// OrdersAPI reads an order from the orders service (GET /api/orders/:id)
// with the credential of the request being served: orders authenticates
// the caller itself and shows the order only to whom Keto lets view it.
type OrdersAPI struct {
	base   string
	client *http.Client
}

var _ app.Orders = OrdersAPI{}

// NewOrdersAPI returns the client of the orders service at base (ORDERS_URL).
func NewOrdersAPI(base string, client *http.Client) OrdersAPI {
	return OrdersAPI{base: base, client: client}
}

// orderBody is the part of the orders service's answer payments keeps.
type orderBody struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	UserID string `json:"userId"`
	Ticket struct {
		Price    int64  `json:"price"`
		Currency string `json:"currency"`
		UserID   string `json:"userId"`
	} `json:"ticket"`
	Version int64 `json:"version"`
}

// maxOrderBody bounds the answer read.
const maxOrderBody = 1 << 20

// Order implements app.Orders. An order the caller may not see is
// domain.ErrOrderNotFound, as orders answers; orders unreachable or failing
// is a 503.
func (a OrdersAPI) Order(ctx context.Context, id string) (domain.Order, error) {
	s, ok := session.FromContext(ctx)
	if !ok {
		return domain.Order{}, errors.New("orders api: no session in the context to ask with")
	}
	u, err := url.JoinPath(a.base, "api", "orders", id)
	if err != nil {
		return domain.Order{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return domain.Order{}, err
	}
	s.Credential.Attach(req)
	resp, err := a.client.Do(req)
	if err != nil {
		return domain.Order{}, apierr.Unavailable("the orders service", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxOrderBody))
		_ = resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusForbidden, http.StatusUnauthorized:
		return domain.Order{}, domain.ErrOrderNotFound
	default:
		return domain.Order{}, apierr.Unavailable("the orders service", fmt.Errorf("GET %s answered %s", u, resp.Status))
	}
	var b orderBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxOrderBody)).Decode(&b); err != nil {
		return domain.Order{}, apierr.Unavailable("the orders service", fmt.Errorf("decode GET %s: %w", u, err))
	}
	if b.ID != id || b.UserID == "" || b.Ticket.UserID == "" || b.Ticket.Currency == "" {
		return domain.Order{}, apierr.Unavailable("the orders service", fmt.Errorf("GET %s: an incomplete order %+v", u, b))
	}
	return domain.Order{
		ID: b.ID, BuyerID: b.UserID, SellerID: b.Ticket.UserID, Status: domain.OrderStatus(b.Status),
		Amount: b.Ticket.Price, Currency: b.Ticket.Currency, Version: b.Version,
	}, nil
}
