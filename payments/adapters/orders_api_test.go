package adapters_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ticketing/ticketing/payments/adapters"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/session"
)

const orderID = "64b7f0c2a1b2c3d4e5f60718"

// TestOrdersAPI_MapsTheOrdersServiceAnswers checks the client's side of
// the orders API against a stand-in answering as orders does; the e2e test
// TestPayments_PaysAnOrderItsEventHasNotBroughtYet runs it against the real
// service.
func TestOrdersAPI_MapsTheOrdersServiceAnswers(t *testing.T) {
	t.Parallel()
	complete := `{"id":"` + orderID + `","status":"created","userId":"buyer-1","version":2,
		"ticket":{"id":"64b7f0c2a1b2c3d4e5f60700","price":2500,"currency":"eur","userId":"seller-1","version":0}}`
	cases := []struct {
		name     string
		status   int
		body     string
		want     domain.Order
		wantKind apierr.Kind
	}{
		{"the order", http.StatusOK, complete, domain.Order{ID: orderID, BuyerID: "buyer-1", SellerID: "seller-1", Status: domain.OrderCreated, Amount: 2500, Currency: "eur", Version: 2}, 0},
		{"not visible", http.StatusNotFound, `{"error":{"code":"order_not_found"}}`, domain.Order{}, apierr.KindNotFound},
		{"session refused", http.StatusUnauthorized, `{}`, domain.Order{}, apierr.KindNotFound},
		{"orders failing", http.StatusServiceUnavailable, `{}`, domain.Order{}, apierr.KindUnavailable},
		{"another order", http.StatusOK, `{"id":"64b7f0c2a1b2c3d4e5f60799","userId":"b","ticket":{"userId":"s","currency":"eur"}}`, domain.Order{}, apierr.KindUnavailable},
		{"no seller", http.StatusOK, `{"id":"` + orderID + `","userId":"b","ticket":{"currency":"eur"}}`, domain.Order{}, apierr.KindUnavailable},
		{"not JSON", http.StatusOK, `<html>`, domain.Order{}, apierr.KindUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/orders/"+orderID || r.Header.Get("Authorization") != "Bearer buyer-token" {
					http.Error(w, "unexpected request", http.StatusTeapot)
					return
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			api := adapters.NewOrdersAPI(srv.URL, httpclient.New(5*time.Second))
			ctx := session.NewContext(context.Background(), session.Session{Credential: session.Credential{Token: "buyer-token"}})
			got, err := api.Order(ctx, orderID)
			if c.wantKind == 0 {
				if err != nil || got != c.want {
					t.Fatalf("Order() = %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if apierr.KindOf(err) != c.wantKind {
				t.Fatalf("Order() error %v, want kind %v", err, c.wantKind)
			}
			if c.wantKind == apierr.KindNotFound && !errors.Is(err, domain.ErrOrderNotFound) {
				t.Fatalf("error %v is not ErrOrderNotFound", err)
			}
		})
	}
}

func TestOrdersAPI_UnreachableIs503(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	api := adapters.NewOrdersAPI(base, httpclient.New(time.Second))
	ctx := session.NewContext(context.Background(), session.Session{Credential: session.Credential{Token: "t"}})
	if _, err := api.Order(ctx, orderID); apierr.KindOf(err) != apierr.KindUnavailable {
		t.Fatalf("error %v, want 503", err)
	}
}
