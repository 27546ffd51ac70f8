package service_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/tickets/service"
)

func lookup(env map[string]string) config.Lookup {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

var required = map[string]string{
	"MONGO_URI":         "mongodb://127.0.0.1:27017/",
	"KRATOS_PUBLIC_URL": "http://127.0.0.1:4433",
	"KETO_READ_URL":     "http://127.0.0.1:4466",
	"KETO_WRITE_URL":    "http://127.0.0.1:4467",
	"RABBITMQ_URL":      "amqp://guest:guest@127.0.0.1:5672/",
	"CURSOR_SECRET":     rand.Text(),
}

func TestConfig_ReadsTheContractVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		extra   map[string]string
		drop    string
		check   func(service.Config) bool
		wantErr string
	}{
		{
			name: "defaults",
			check: func(c service.Config) bool {
				return c.HTTP.Addr == ":4000" && c.MongoDatabase == "tickets" && c.Session.CacheTTL == 2*time.Second &&
					c.Log.Level == slog.LevelInfo && c.Keto.WriteURL == "http://127.0.0.1:4467"
			},
		},
		{
			name:  "everything set",
			extra: map[string]string{"HTTP_ADDR": "127.0.0.1:4002", "MONGO_DATABASE": "tickets_e2e", "LOG_LEVEL": "debug", "CORS_ALLOWED_ORIGINS": "http://localhost:3000"},
			check: func(c service.Config) bool {
				return c.HTTP.Addr == "127.0.0.1:4002" && c.MongoDatabase == "tickets_e2e" && c.Log.Level == slog.LevelDebug &&
					len(c.Session.AllowedOrigins) == 1
			},
		},
		{name: "published cursor secret", extra: map[string]string{"CURSOR_SECRET": config.DevelopmentSecrets["CURSOR_SECRET"]}, wantErr: "config: CURSOR_SECRET: holds a secret published in the ticketing repository"},
		{name: "cursor secret missing", drop: "CURSOR_SECRET", wantErr: "config: CURSOR_SECRET: required but not set"},
		{name: "cursor secret short", extra: map[string]string{"CURSOR_SECRET": "short"}, wantErr: "config: CURSOR_SECRET: must be at least 16 characters long"},
		{name: "rabbitmq missing", drop: "RABBITMQ_URL", wantErr: "config: RABBITMQ_URL: required but not set"},
		{name: "rabbitmq not amqp", extra: map[string]string{"RABBITMQ_URL": "http://127.0.0.1:5672"}, wantErr: "RABBITMQ_URL: must be an amqp://"},
		{name: "keto write URL missing", drop: "KETO_WRITE_URL", wantErr: "config: KETO_WRITE_URL: required but not set"},
		{name: "mongo missing", drop: "MONGO_URI", wantErr: "config: MONGO_URI: required but not set"},
		{name: "kratos missing", drop: "KRATOS_PUBLIC_URL", wantErr: "config: KRATOS_PUBLIC_URL: required but not set"},
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
			var cfg service.Config
			err := config.LoadFrom(&cfg, lookup(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadFrom() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(cfg) {
				t.Fatalf("LoadFrom() = %+v, %v", cfg, err)
			}
		})
	}
}

func TestNew_FailsFastWhenTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for k, v := range required {
		env[k] = v
	}
	env["MONGO_URI"] = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"
	var cfg service.Config
	if err := config.LoadFrom(&cfg, lookup(env)); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil {
		svc.Close()
		t.Fatal("New() succeeded without a database")
	}
	if !strings.Contains(err.Error(), "mongo at start-up") {
		t.Errorf("New() = %v, want it to name the database", err)
	}
}
