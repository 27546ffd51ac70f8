// Package service wires orders: configuration, adapters (Mongo, Keto,
// RabbitMQ, the Redis rate limiter), use cases, the HTTP and event ports, and the background work (outbox relay, event
// consumer, grant repairer), with an orderly shutdown.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/orders/adapters"
	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/ports"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/ratelimit"
	"github.com/ticketing/ticketing/pkg/session"
)

// Config is the orders configuration, read from the environment
// (docs/contracts-local.md).
type Config struct {
	HTTP    httpserver.Config // HTTP_ADDR
	Log     logging.Config    // LOG_LEVEL
	Session session.Config    // KRATOS_PUBLIC_URL, SESSION_CACHE_TTL, PUBLIC_URL, CORS_ALLOWED_ORIGINS
	Keto    keto.Config       // KETO_READ_URL, KETO_WRITE_URL

	MongoURI      string `env:"MONGO_URI,required"`
	MongoDatabase string `env:"MONGO_DATABASE" default:"orders"`
	RabbitMQURL   string `env:"RABBITMQ_URL,required"`
	CursorSecret  string `env:"CURSOR_SECRET,required" validate:"min=16,secret"`
	// OrderExpirationWindow is how long an order holds its ticket.
	OrderExpirationWindow time.Duration `env:"ORDER_EXPIRATION_WINDOW" default:"15m" validate:"min=1s"`
	// MaxHoldsPerBuyer is how many created (unpaid) orders one buyer may
	// hold at once, so that nobody can hoard a sale's inventory.
	MaxHoldsPerBuyer int `env:"ORDER_MAX_HOLDS_PER_BUYER" default:"5" validate:"min=1"`
	// CreateRate paces each buyer's order creations ("LIMIT/PERIOD"),
	// counted in Redis so that every instance shares one count per buyer.
	CreateRate ratelimit.Rate `env:"ORDER_CREATE_RATE" default:"10/1m"`
	// TicketRate paces one buyer's holds of one ticket ("LIMIT/PERIOD"):
	// a mistake and a retry at once, then one per PERIOD/LIMIT, longer
	// than the hold window, so that cancelling and ordering again cannot
	// keep a ticket from everyone else.
	TicketRate ratelimit.Rate `env:"ORDER_TICKET_RATE" default:"2/1h"`
	RedisAddr  string         `env:"REDIS_ADDR,required"`
}

// createLimitPrefix names the Redis keys of the per-buyer order rate.
// WARNING: stored state; renaming it resets every buyer's count once.
const createLimitPrefix = "orders:create:buyer"

// holdLimitPrefix names the Redis keys of the per-buyer, per-ticket hold
// pace (key "<buyer>:<ticket>").
// WARNING: stored state; renaming it resets every count once.
const holdLimitPrefix = "orders:hold:buyer-ticket"

const (
	// dependencyTimeout bounds each call to Kratos and Keto.
	dependencyTimeout = 5 * time.Second
	// startupTimeout bounds the start-up work on Mongo and RabbitMQ.
	startupTimeout = 30 * time.Second
	// shutdownTimeout bounds the wait for requests in flight.
	shutdownTimeout = 10 * time.Second
)

// Service is the orders service, built and ready to run.
type Service struct {
	handler  http.Handler
	consumer *events.Consumer
	relay    *events.Relay
	repairer app.RepairGrantsHandler
	sweeper  app.ReleaseOverdueHandler
	closers  []func()
}

// New connects the adapters (creating indexes and declaring the queue),
// and builds the application and its ports. Close releases what it opened.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Service, error) {
	s := &Service{}
	client, err := mongodb.Connect(cfg.MongoURI)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() {
		disconnectCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := client.Disconnect(disconnectCtx); err != nil {
			logger.Warn("mongo disconnect failed", slog.String("error", err.Error()))
		}
	})
	if err := s.build(ctx, cfg, logger, client); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) build(ctx context.Context, cfg Config, logger *slog.Logger, client *mongo.Client) error {
	startCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	db := client.Database(cfg.MongoDatabase)
	waker := &events.RelayRef{}
	orders, err := adapters.NewMongoOrderRepository(startCtx, db, waker)
	if err != nil {
		return fmt.Errorf("orders: mongo at start-up: %w", err)
	}
	tickets := adapters.NewMongoTicketReplica(db)

	broker := events.NewConnection(cfg.RabbitMQURL, logger)
	publisher := events.NewPublisher(broker)
	s.closers = append(s.closers, publisher.Close, func() { _ = broker.Close() })
	s.relay = events.NewRelay(orders.Outbox(), publisher, logger)
	waker.Set(s.relay)

	httpClient := httpclient.New(dependencyTimeout)
	ketoClient, err := keto.New(cfg.Keto, httpClient)
	if err != nil {
		return err
	}
	perms := adapters.NewKetoPermissions(ketoClient)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	s.closers = append(s.closers, func() { _ = rdb.Close() })
	sessions, err := session.New(cfg.Session, httpClient)
	if err != nil {
		return err
	}
	kratosReady, err := adapters.KratosReady(cfg.Session.KratosPublicURL, httpClient)
	if err != nil {
		return err
	}

	application := app.Application{
		CreateOrder: app.NewCreateOrderHandler(orders, tickets, perms,
			app.OrderLimits{Window: cfg.OrderExpirationWindow, MaxHolds: cfg.MaxHoldsPerBuyer},
			ratelimit.NewLimiter(rdb, createLimitPrefix, cfg.CreateRate),
			ratelimit.NewLimiter(rdb, holdLimitPrefix, cfg.TicketRate), logger),
		CancelOrder:        app.NewCancelOrderHandler(orders, perms),
		GetOrder:           app.NewGetOrderHandler(orders, perms),
		ListOrders:         app.NewListOrdersHandler(orders),
		ApplyTicket:        app.NewApplyTicketHandler(tickets),
		ConfirmReservation: app.NewConfirmReservationHandler(orders, logger),
		RefuseOrder:        app.NewRefuseOrderHandler(orders, logger),
		ExpireOrder:        app.NewExpireOrderHandler(orders, logger),
		CompleteOrder:      app.NewCompleteOrderHandler(orders, logger),
		RefundOrder:        app.NewRefundOrderHandler(orders, logger),
		RepairGrants:       app.NewRepairGrantsHandler(orders, perms, logger),
		ReleaseOverdue:     app.NewReleaseOverdueHandler(orders, logger),
	}
	s.repairer, s.sweeper = application.RepairGrants, application.ReleaseOverdue

	s.consumer = events.NewConsumer(broker, ports.ServiceName, logger)
	ports.NewEventHandlers(application, logger).Register(s.consumer)
	// The queue exists before the service is ready, so that no ticket
	// event published from now on is unroutable.
	if err := s.consumer.Declare(startCtx); err != nil {
		return fmt.Errorf("orders: rabbitmq at start-up: %w", err)
	}

	engine := httpserver.New(logger,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "rabbitmq", Run: broker.Ready},
		httpserver.Check{Name: "keto", Run: ketoClient.Ready},
		httpserver.Check{Name: "kratos", Run: kratosReady},
		httpserver.Check{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	)
	engine.Use(httpserver.Admit(cfg.HTTP.MaxInFlight, cfg.HTTP.QueueWait))
	ports.NewHTTPServer(application, sessions, pagination.NewSigner(cfg.CursorSecret)).Register(engine)
	s.handler = engine
	return nil
}

// Run serves HTTP on addr and runs the background work until ctx ends,
// then shuts down in order: stop taking requests (those in flight finish),
// stop the consumer (handlers in flight finish and ack), stop the repairer
// and the overdue-hold sweeper,
// and last the relay, whose final pass publishes what those wrote.
func (s *Service) Run(ctx context.Context, addr string) error {
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var relayDone, workDone sync.WaitGroup
	relayDone.Add(1)
	go func() { defer relayDone.Done(); _ = s.relay.Run(relayCtx) }()
	workDone.Add(3)
	go func() { defer workDone.Done(); _ = s.consumer.Run(workCtx) }()
	go func() { defer workDone.Done(); s.repairer.Run(workCtx) }()
	go func() { defer workDone.Done(); s.sweeper.Run(workCtx) }()

	err := httpserver.Run(ctx, s.handler, addr, shutdownTimeout)
	stopWork()
	workDone.Wait()
	stopRelay()
	relayDone.Wait()
	return err
}

// Close releases the clients, last opened first.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}
