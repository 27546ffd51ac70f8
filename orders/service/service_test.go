package service_test

import (
	"crypto/rand"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/orders/service"
	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/ratelimit"
	"github.com/ticketing/ticketing/pkg/session"
)

// cursorSecret is a secret of this run: a fixed one would be published in the
// repository, and the service refuses published secrets.
var cursorSecret = rand.Text()

func TestConfig_ReadsTheContractVariables(t *testing.T) {
	t.Parallel()
	required := map[string]string{
		"MONGO_URI":         "mongodb://127.0.0.1:27017/",
		"KRATOS_PUBLIC_URL": "http://127.0.0.1:4433",
		"KETO_READ_URL":     "http://127.0.0.1:4466",
		"KETO_WRITE_URL":    "http://127.0.0.1:4467",
		"RABBITMQ_URL":      "amqp://guest:guest@127.0.0.1:5672/",
		"CURSOR_SECRET":     cursorSecret,
		"REDIS_ADDR":        "127.0.0.1:6379",
	}
	defaults := service.Config{
		HTTP:          httpserver.Config{Addr: ":4000", MaxInFlight: 64, QueueWait: 30 * time.Second},
		Log:           logging.Config{Level: slog.LevelInfo},
		Session:       session.Config{KratosPublicURL: "http://127.0.0.1:4433", CacheTTL: 2 * time.Second},
		Keto:          keto.Config{ReadURL: "http://127.0.0.1:4466", WriteURL: "http://127.0.0.1:4467"},
		MongoURI:      "mongodb://127.0.0.1:27017/",
		MongoDatabase: "orders",
		RabbitMQURL:   "amqp://guest:guest@127.0.0.1:5672/",
		CursorSecret:  cursorSecret,

		OrderExpirationWindow: 15 * time.Minute,
		MaxHoldsPerBuyer:      5,
		CreateRate:            ratelimit.Rate{Limit: 10, Period: time.Minute},
		TicketRate:            ratelimit.Rate{Limit: 2, Period: time.Hour},
		RedisAddr:             "127.0.0.1:6379",
	}
	tests := []struct {
		name    string
		extra   map[string]string
		drop    string
		want    func(service.Config) service.Config
		wantErr string
	}{
		{name: "defaults", want: func(c service.Config) service.Config { return c }},
		{
			name: "everything set",
			extra: map[string]string{
				"HTTP_ADDR": "127.0.0.1:4003", "MONGO_DATABASE": "orders_e2e", "ORDER_EXPIRATION_WINDOW": "12s", "LOG_LEVEL": "debug",
				"ORDER_MAX_HOLDS_PER_BUYER": "40", "ORDER_CREATE_RATE": "30/1s", "ORDER_TICKET_RATE": "3/2h",
			},
			want: func(c service.Config) service.Config {
				c.HTTP.Addr, c.MongoDatabase, c.OrderExpirationWindow, c.Log.Level = "127.0.0.1:4003", "orders_e2e", 12*time.Second, slog.LevelDebug
				c.MaxHoldsPerBuyer, c.CreateRate = 40, ratelimit.Rate{Limit: 30, Period: time.Second}
				c.TicketRate = ratelimit.Rate{Limit: 3, Period: 2 * time.Hour}
				return c
			},
		},
		{name: "short cursor secret", extra: map[string]string{"CURSOR_SECRET": "short"}, wantErr: "config: CURSOR_SECRET: must be at least 16 characters long"},
		{name: "published cursor secret", extra: map[string]string{"CURSOR_SECRET": config.DevelopmentSecrets["CURSOR_SECRET"]}, wantErr: "config: CURSOR_SECRET: holds a secret published in the ticketing repository"},
		{name: "cursor secret missing", drop: "CURSOR_SECRET", wantErr: "config: CURSOR_SECRET: required but not set"},
		{name: "window not a duration", extra: map[string]string{"ORDER_EXPIRATION_WINDOW": "soon"}, wantErr: "config: ORDER_EXPIRATION_WINDOW"},
		{name: "window too short", extra: map[string]string{"ORDER_EXPIRATION_WINDOW": "10ms"}, wantErr: "config: ORDER_EXPIRATION_WINDOW"},
		{name: "no holds allowed", extra: map[string]string{"ORDER_MAX_HOLDS_PER_BUYER": "0"}, wantErr: "config: ORDER_MAX_HOLDS_PER_BUYER"},
		{name: "rate without period", extra: map[string]string{"ORDER_CREATE_RATE": "10"}, wantErr: "config: ORDER_CREATE_RATE"},
		{name: "rate of nothing", extra: map[string]string{"ORDER_CREATE_RATE": "0/1m"}, wantErr: "config: ORDER_CREATE_RATE"},
		{name: "ticket rate without period", extra: map[string]string{"ORDER_TICKET_RATE": "2"}, wantErr: "config: ORDER_TICKET_RATE"},
		{name: "broker missing", drop: "RABBITMQ_URL", wantErr: "config: RABBITMQ_URL: required but not set"},
		{name: "redis missing", drop: "REDIS_ADDR", wantErr: "config: REDIS_ADDR: required but not set"},
		{name: "keto missing", drop: "KETO_WRITE_URL", wantErr: "config: KETO_WRITE_URL: required but not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range required {
				env[k] = v
			}
			for k, v := range tt.extra {
				env[k] = v
			}
			delete(env, tt.drop)
			var got service.Config
			err := config.LoadFrom(&got, func(name string) (string, bool) { v, ok := env[name]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(defaults); !reflect.DeepEqual(got, want) {
				t.Errorf("config =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}
