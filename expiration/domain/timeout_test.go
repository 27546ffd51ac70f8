package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ticketing/ticketing/expiration/domain"
)

func TestNewTimeout(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	cases := []struct {
		name    string
		orderID string
		at      time.Time
		ok      bool
	}{
		{"valid", "656565656565656565656565", at, true},
		{"upper-case hex", "656565656565656565656ABC", at, false},
		{"too short", "6565", at, false},
		{"empty", "", at, false},
		{"no time", "656565656565656565656565", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NewTimeout(tc.orderID, tc.at)
			if !tc.ok {
				if !errors.Is(err, domain.ErrInvalidTimeout) {
					t.Fatalf("err = %v, want ErrInvalidTimeout", err)
				}
				return
			}
			if err != nil || got.OrderID() != tc.orderID || !got.ExpiresAt().Equal(tc.at) || got.ExpiresAt().Location() != time.UTC {
				t.Fatalf("NewTimeout = %+v, %v", got, err)
			}
		})
	}
}
