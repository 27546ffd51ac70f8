// Package service wires auth: configuration, adapters, use cases and the HTTP
// port.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/ports"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
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
	cleanup := func() {
		disconnectCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := client.Disconnect(disconnectCtx); err != nil {
			logger.Warn("mongo disconnect failed", slog.String("error", err.Error()))
		}
	}
	handler, err := newHandler(ctx, cfg, logger, client)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return handler, cleanup, nil
}

func newHandler(ctx context.Context, cfg Config, logger *slog.Logger, client *mongo.Client) (http.Handler, error) {
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

	application := app.Application{
		SignUp:             app.NewSignUpHandler(kratos, users, logger),
		SignIn:             app.NewSignInHandler(kratos),
		SignOut:            app.NewSignOutHandler(kratos),
		CurrentUser:        app.CurrentUserHandler{},
		RecordSignedUpUser: app.NewRecordSignedUpUserHandler(users, kratos, logger),
	}
	engine := httpserver.New(logger,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "kratos", Run: kratos.Ready},
	)
	engine.Use(httpserver.Admit(cfg.HTTP.MaxInFlight, cfg.HTTP.QueueWait))
	ports.NewHTTPServer(application, sessions, cfg.WebhookAPIKey).Register(engine)
	return engine, nil
}
