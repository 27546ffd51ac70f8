// Package service wires the payments service: configuration, adapters
// (Mongo, RabbitMQ, Keto, Kratos, Stripe), use cases, the HTTP and event
// ports, and the background runners (outbox relay, event consumer, grant
// repairer).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ticketing/ticketing/payments/adapters"
	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/ports"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/session"
)

// Config is the payments configuration, read from the environment
// (docs/contracts-local.md).
type Config struct {
	HTTP    httpserver.Config // HTTP_ADDR
	Log     logging.Config    // LOG_LEVEL
	Session session.Config    // KRATOS_PUBLIC_URL, SESSION_CACHE_TTL, PUBLIC_URL, CORS_ALLOWED_ORIGINS
	Keto    keto.Config       // KETO_READ_URL, KETO_WRITE_URL

	MongoURI      string `env:"MONGO_URI,required"`
	MongoDatabase string `env:"MONGO_DATABASE" default:"payments"`
	RabbitMQURL   string `env:"RABBITMQ_URL,required"`
	// OrdersURL is the orders service, asked for an order whose
	// order.created has not reached payments yet.
	OrdersURL string `env:"ORDERS_URL,required" validate:"url"`
	// StripeAPIBase is Stripe's API, or stripe-mock locally.
	StripeAPIBase       string `env:"STRIPE_API_BASE" default:"https://api.stripe.com" validate:"url"`
	StripeSecretKey     string `env:"STRIPE_SECRET_KEY,required" validate:"secret"`
	StripeWebhookSecret string `env:"STRIPE_WEBHOOK_SECRET,required" validate:"min=12,secret"`
	// CursorSecret signs the cursors of the admins' list of payments by
	// status; the same on every instance.
	CursorSecret string `env:"CURSOR_SECRET,required" validate:"min=16,secret"`
}

// Validate checks the Stripe secrets' shapes, so that a swapped or
// truncated secret fails at start-up rather than at the first payment.
func (c *Config) Validate() error {
	var problems []error
	if !strings.HasPrefix(c.StripeSecretKey, "sk_") && !strings.HasPrefix(c.StripeSecretKey, "rk_") {
		problems = append(problems, errors.New("STRIPE_SECRET_KEY: must be a Stripe secret or restricted key (sk_… or rk_…)"))
	}
	if !strings.HasPrefix(c.StripeWebhookSecret, "whsec_") {
		problems = append(problems, errors.New("STRIPE_WEBHOOK_SECRET: must be a Stripe webhook signing secret (whsec_…)"))
	}
	return errors.Join(problems...)
}

const (
	// dependencyTimeout bounds each call to Kratos and Keto.
	dependencyTimeout = 5 * time.Second
	// stripeTimeout bounds each call to Stripe; stripe-go retries a
	// network failure once, so a request waits at most about twice this.
	stripeTimeout = 10 * time.Second
	// startupTimeout bounds waiting for RabbitMQ at start-up.
	startupTimeout = 30 * time.Second
)

// Service is the wired service.
type Service struct {
	Handler http.Handler
	run     []func(context.Context) error
	close   []func() error
	log     *slog.Logger
}

// New connects the adapters (creating the database's indexes and declaring
// the queue) and builds the service; Run starts it.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Service, error) {
	s := &Service{log: log}
	if err := s.build(ctx, cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) build(ctx context.Context, cfg Config) error {
	client, err := mongodb.Connect(cfg.MongoURI)
	if err != nil {
		return err
	}
	s.close = append(s.close, func() error {
		disconnectCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return client.Disconnect(disconnectCtx)
	})
	db := client.Database(cfg.MongoDatabase)

	conn := events.NewConnection(cfg.RabbitMQURL, s.log)
	s.close = append(s.close, conn.Close)
	publisher := events.NewPublisher(conn)
	s.close = append(s.close, func() error { publisher.Close(); return nil })
	waker := &events.RelayRef{}
	payments, err := adapters.NewMongoPaymentRepository(ctx, db, waker)
	if err != nil {
		return fmt.Errorf("payments: mongo at start-up: %w", err)
	}
	relay := events.NewRelay(payments.Outbox(), publisher, s.log)
	waker.Set(relay)
	orders := adapters.NewMongoOrderReplica(db)

	httpClient := httpclient.New(dependencyTimeout)
	sessions, err := session.New(cfg.Session, httpClient)
	if err != nil {
		return err
	}
	ketoClient, err := keto.New(cfg.Keto, httpClient)
	if err != nil {
		return err
	}
	perms := adapters.NewKetoPermissions(ketoClient)
	stripe, err := adapters.NewStripeClient(cfg.StripeAPIBase, cfg.StripeSecretKey, httpclient.New(stripeTimeout), s.log)
	if err != nil {
		return err
	}

	refunder := app.NewRefunder(payments, stripe, s.log)
	source := adapters.NewOrdersAPI(cfg.OrdersURL, httpClient)
	application := app.Application{
		CreatePayment:     app.NewCreatePaymentHandler(payments, orders, source, perms, stripe),
		GetPayment:        app.NewGetPaymentHandler(payments, perms),
		RefundPayment:     app.NewRefundPaymentHandler(payments, orders, source, perms, refunder),
		ResolvePayment:    app.NewResolvePaymentHandler(payments, orders, perms, refunder, s.log),
		ListPayments:      app.NewListPaymentsHandler(payments, perms),
		HandleStripeEvent: app.NewHandleStripeEventHandler(payments, orders, refunder, s.log),
		ApplyOrder:        app.NewApplyOrderHandler(orders, payments, refunder, s.log),
		RepairGrants:      app.NewRepairGrantsHandler(payments, perms, s.log),
	}

	consumer := events.NewConsumer(conn, ports.ServiceName, s.log)
	ports.NewEventHandlers(application).Register(consumer)
	// The queue exists before the service is ready, so that no order event
	// published from now on passes payments by.
	declareCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if err := consumer.Declare(declareCtx); err != nil {
		return fmt.Errorf("payments: declare queue %s at start-up: %w", events.QueueName(ports.ServiceName), err)
	}
	s.run = append(s.run, relay.Run, consumer.Run, application.RepairGrants.Run)

	kratosReady, err := url.JoinPath(cfg.Session.KratosPublicURL, "health", "ready")
	if err != nil {
		return err
	}
	engine := httpserver.New(s.log,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "rabbitmq", Run: conn.Ready},
		httpserver.Check{Name: "keto", Run: ketoClient.Ready},
		httpserver.Check{Name: "kratos", Run: adapters.HTTPReady(httpClient, "Kratos", kratosReady)},
		httpserver.Check{Name: "stripe", Run: stripe.Ready},
	)
	engine.Use(httpserver.Admit(cfg.HTTP.MaxInFlight, cfg.HTTP.QueueWait))
	ports.NewHTTPServer(application, sessions, cfg.StripeWebhookSecret, pagination.NewSigner(cfg.CursorSecret), s.log).Register(engine)
	s.Handler = engine
	return nil
}

// Run serves until ctx ends: HTTP on addr, the event consumer, the outbox
// relay and the grant repairer. On shutdown HTTP stops first, then the
// consumer finishes what it holds and the relay flushes.
func (s *Service) Run(ctx context.Context, addr string) error {
	errs := make(chan error, len(s.run))
	for _, r := range s.run {
		go func() { errs <- r(ctx) }()
	}
	err := httpserver.Run(ctx, s.Handler, addr, 10*time.Second)
	for range s.run {
		err = errors.Join(err, <-errs)
	}
	return err
}

// Close closes the clients, last opened first.
func (s *Service) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		if err := s.close[i](); err != nil {
			s.log.Warn("close failed", "error", err.Error())
		}
	}
}
