package apptest

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/auth/app"
)

// Unlimited returns attempt limits that admit everything and remember
// nothing, for the tests of everything but the limits (those run against
// the real Redis, in e2e).
func Unlimited() *app.Attempts {
	return &app.Attempts{
		PerAddress:           admitAll{},
		PerIdentifier:        admitAll{},
		PerAccountAndAddress: admitAll{},
		PerAccount:           admitAll{},
		Logger:               slog.New(slog.DiscardHandler),
	}
}

type admitAll struct{}

func (admitAll) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }
func (admitAll) Check(context.Context, string) (time.Duration, error)       { return 0, nil }
func (admitAll) Failure(context.Context, string) (time.Duration, error)     { return 0, nil }
func (admitAll) Reset(context.Context, string) error                        { return nil }
