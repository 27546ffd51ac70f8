package service_test

import (
	"crypto/rand"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/auth/service"
	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/ratelimit"
	"github.com/ticketing/ticketing/pkg/session"
)

// webhookKey is a secret of this run: a fixed one would be published in the
// repository, and the service refuses published secrets.
var webhookKey = rand.Text()

func lookup(env map[string]string) config.Lookup {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestConfig_ReadsTheContractVariables(t *testing.T) {
	t.Parallel()
	required := map[string]string{
		"MONGO_URI":            "mongodb://127.0.0.1:27017/",
		"KRATOS_PUBLIC_URL":    "http://127.0.0.1:4433",
		"KRATOS_ADMIN_URL":     "http://127.0.0.1:4434",
		"AUTH_WEBHOOK_API_KEY": webhookKey,
		"REDIS_ADDR":           "127.0.0.1:6379",
	}
	tests := []struct {
		name    string
		extra   map[string]string
		drop    string
		want    func(service.Config) service.Config
		wantErr string
	}{
		{
			name: "defaults",
			want: func(c service.Config) service.Config { return c },
		},
		{
			name: "everything set",
			extra: map[string]string{
				"HTTP_ADDR": "127.0.0.1:4001", "LOG_LEVEL": "debug", "MONGO_DATABASE": "auth_e2e",
				"SESSION_CACHE_TTL": "5s", "PUBLIC_URL": "http://127.0.0.1:8080",
				"CORS_ALLOWED_ORIGINS": "http://localhost:3000 http://127.0.0.1:3000",
				"AUTH_ADDRESS_RATE":    "40/1s", "AUTH_IDENTIFIER_RATE": "20/1m", "AUTH_FAILURES_FREE": "3",
				"AUTH_ACCOUNT_FAILURES_FREE": "20", "AUTH_FAILURE_DELAY": "2s", "AUTH_FAILURE_DELAY_MAX": "4s",
				"AUTH_FAILURE_MEMORY": "1m",
			},
			want: func(c service.Config) service.Config {
				c.HTTP.Addr, c.Log.Level, c.MongoDatabase = "127.0.0.1:4001", slog.LevelDebug, "auth_e2e"
				c.Session.CacheTTL, c.Session.PublicURL = 5*time.Second, "http://127.0.0.1:8080"
				c.Session.AllowedOrigins = []string{"http://localhost:3000", "http://127.0.0.1:3000"}
				c.Limits = service.LimitsConfig{
					AddressRate: ratelimit.Rate{Limit: 40, Period: time.Second}, IdentifierRate: ratelimit.Rate{Limit: 20, Period: time.Minute},
					FailuresFree: 3, AccountFailuresFree: 20, FailureDelay: 2 * time.Second, FailureDelayMax: 4 * time.Second,
					FailureMemory: time.Minute,
				}
				return c
			},
		},
		{name: "cache TTL over 5s", extra: map[string]string{"SESSION_CACHE_TTL": "9s"}, wantErr: `config: SESSION_CACHE_TTL: must be a duration ≤ 5s, got "9s"`},
		{name: "short webhook key", extra: map[string]string{"AUTH_WEBHOOK_API_KEY": "short"}, wantErr: "config: AUTH_WEBHOOK_API_KEY: must be at least 16 characters long"},
		{name: "published webhook key", extra: map[string]string{"AUTH_WEBHOOK_API_KEY": config.DevelopmentSecrets["AUTH_WEBHOOK_API_KEY"]}, wantErr: "config: AUTH_WEBHOOK_API_KEY: holds a secret published in the ticketing repository"},
		{name: "admin URL missing", drop: "KRATOS_ADMIN_URL", wantErr: "config: KRATOS_ADMIN_URL: required but not set"},
		{name: "mongo URI missing", drop: "MONGO_URI", wantErr: "config: MONGO_URI: required but not set"},
		{name: "redis missing", drop: "REDIS_ADDR", wantErr: "config: REDIS_ADDR: required but not set"},
		{name: "rate without period", extra: map[string]string{"AUTH_ADDRESS_RATE": "60"}, wantErr: "AUTH_ADDRESS_RATE"},
		{name: "delay cap below delay", extra: map[string]string{"AUTH_FAILURE_DELAY": "1m", "AUTH_FAILURE_DELAY_MAX": "1s"}, wantErr: "AUTH_FAILURE_DELAY_MAX"},
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
			err := config.LoadFrom(&got, lookup(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defaults := service.Config{
				HTTP:     httpserver.Config{Addr: ":4000", MaxInFlight: 64, QueueWait: 30 * time.Second},
				Log:      logging.Config{Level: slog.LevelInfo},
				Session:  session.Config{KratosPublicURL: "http://127.0.0.1:4433", CacheTTL: 2 * time.Second},
				MongoURI: "mongodb://127.0.0.1:27017/", MongoDatabase: "auth",
				KratosAdminURL: "http://127.0.0.1:4434", WebhookAPIKey: webhookKey,
				RedisAddr: "127.0.0.1:6379",
				Limits: service.LimitsConfig{
					AddressRate: ratelimit.Rate{Limit: 60, Period: time.Minute}, IdentifierRate: ratelimit.Rate{Limit: 10, Period: time.Hour},
					FailuresFree: 5, AccountFailuresFree: 100, FailureDelay: time.Second, FailureDelayMax: 15 * time.Minute,
					FailureMemory: 24 * time.Hour,
				},
			}
			if want := tt.want(defaults); !reflect.DeepEqual(got, want) {
				t.Errorf("config =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}
