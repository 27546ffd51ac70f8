// Package service wires auth: configuration, adapters, use cases and the HTTP
// port.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/ports"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/ratelimit"
	"github.com/ticketing/ticketing/pkg/session"
)

// Config is auth's configuration, read from the environment
// (docs/contracts-local.md).
type Config struct {
	HTTP    httpserver.Config // HTTP_ADDR
	Log     logging.Config    // LOG_LEVEL
	Session session.Config    // KRATOS_PUBLIC_URL, SESSION_CACHE_TTL, PUBLIC_URL, CORS_ALLOWED_ORIGINS

	MongoURI       string `env:"MONGO_URI,required"`
	MongoDatabase  string `env:"MONGO_DATABASE" default:"auth"`
	KratosAdminURL string `env:"KRATOS_ADMIN_URL,required" validate:"url"`
	WebhookAPIKey  string `env:"AUTH_WEBHOOK_API_KEY,required" validate:"min=16,secret"`
	RedisAddr      string `env:"REDIS_ADDR,required"`
	Limits         LimitsConfig
}

// LimitsConfig is how hard password and account attempts are limited (the
// table in auth/README.md). Failures for an account at one address back off
// after FailuresFree of them, for the account everywhere only after
// AccountFailuresFree; the delay starts at FailureDelay and doubles with
// each further failure up to FailureDelayMax.
type LimitsConfig struct {
	AddressRate         ratelimit.Rate `env:"AUTH_ADDRESS_RATE" default:"60/1m"`
	IdentifierRate      ratelimit.Rate `env:"AUTH_IDENTIFIER_RATE" default:"10/1h"`
	FailuresFree        int            `env:"AUTH_FAILURES_FREE" default:"5" validate:"min=0"`
	AccountFailuresFree int            `env:"AUTH_ACCOUNT_FAILURES_FREE" default:"100" validate:"min=0"`
	FailureDelay        time.Duration  `env:"AUTH_FAILURE_DELAY" default:"1s" validate:"min=1ms"`
	FailureDelayMax     time.Duration  `env:"AUTH_FAILURE_DELAY_MAX" default:"15m" validate:"min=1ms"`
	FailureMemory       time.Duration  `env:"AUTH_FAILURE_MEMORY" default:"24h" validate:"min=1ms"`
}

// Validate checks the rules that span fields.
func (l LimitsConfig) Validate() error {
	if err := l.policy(l.FailuresFree).Validate(); err != nil {
		return fmt.Errorf("config: AUTH_FAILURE_DELAY ≤ AUTH_FAILURE_DELAY_MAX ≤ AUTH_FAILURE_MEMORY: %w", err)
	}
	return nil
}

func (l LimitsConfig) policy(free int) ratelimit.Policy {
	return ratelimit.Policy{Free: free, Base: l.FailureDelay, Max: l.FailureDelayMax, Memory: l.FailureMemory}
}

// attempts builds the limits on rdb. WARNING: the key prefixes are shared
// by every auth instance; renaming one forgets the counts under it.
func (l LimitsConfig) attempts(rdb ratelimit.Client, logger *slog.Logger) *app.Attempts {
	return &app.Attempts{
		PerAddress:           ratelimit.NewLimiter(rdb, "auth:attempts:address", l.AddressRate),
		PerIdentifier:        ratelimit.NewLimiter(rdb, "auth:attempts:account", l.IdentifierRate),
		PerAccountAndAddress: ratelimit.NewBackoff(rdb, "auth:failures:account-address", l.policy(l.FailuresFree)),
		PerAccount:           ratelimit.NewBackoff(rdb, "auth:failures:account", l.policy(l.AccountFailuresFree)),
		Logger:               logger,
	}
}

// kratosTimeout bounds each Kratos call. Native sign-ins and sign-ups hash
// with bcrypt and queue behind each other under load, so this is longer than
// the session check's own bound.
const kratosTimeout = 10 * time.Second

// New connects auth's adapters (creating the database's indexes), builds the
// application and its HTTP port, and returns the handler to serve and a
// cleanup func that closes the adapters.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (http.Handler, func(), error) {
	client, err := mongodb.Connect(cfg.MongoURI)
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	cleanup := func() {
		_ = rdb.Close()
		disconnectCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := client.Disconnect(disconnectCtx); err != nil {
			logger.Warn("mongo disconnect failed", slog.String("error", err.Error()))
		}
	}
	handler, err := newHandler(ctx, cfg, logger, client, rdb)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return handler, cleanup, nil
}

func newHandler(ctx context.Context, cfg Config, logger *slog.Logger, client *mongo.Client, rdb *redis.Client) (http.Handler, error) {
	users, err := adapters.NewMongoUserRepository(ctx, client.Database(cfg.MongoDatabase))
	if err != nil {
		return nil, fmt.Errorf("auth: mongo at start-up: %w", err)
	}
	httpClient := httpclient.New(kratosTimeout)
	kratos, err := adapters.NewKratosClient(cfg.Session.KratosPublicURL, cfg.KratosAdminURL, httpClient)
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(cfg.Session, httpClient)
	if err != nil {
		return nil, err
	}

	attempts := cfg.Limits.attempts(rdb, logger)
	passThrough, err := ports.NewKratosPassThrough(cfg.Session.KratosPublicURL, cfg.Session.PublicURL, httpClient.Transport, attempts)
	if err != nil {
		return nil, err
	}

	application := app.Application{
		SignUp:             app.NewSignUpHandler(kratos, users, attempts, logger),
		SignIn:             app.NewSignInHandler(kratos, attempts),
		SignOut:            app.NewSignOutHandler(kratos),
		CurrentUser:        app.CurrentUserHandler{},
		RecordSignedUpUser: app.NewRecordSignedUpUserHandler(users, kratos, logger),
	}
	engine := httpserver.New(logger,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "kratos", Run: kratos.Ready},
		httpserver.Check{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	)
	engine.Use(httpserver.Admit(cfg.HTTP.MaxInFlight, cfg.HTTP.QueueWait))
	ports.NewHTTPServer(application, sessions, cfg.WebhookAPIKey).Register(engine)
	passThrough.Register(engine)
	return engine, nil
}
