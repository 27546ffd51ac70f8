// Package service wires the tickets service: configuration, adapters, use
// cases, the HTTP and event ports, and the background work (event
// consumer, outbox relay, grants repairer) with its ordered shutdown.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/pagination"
	"github.com/ticketing/ticketing/pkg/session"
	"github.com/ticketing/ticketing/tickets/adapters"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/ports"
)

const (
	// dependencyTimeout bounds each call to Kratos and Keto.
	dependencyTimeout = 5 * time.Second
	// startupTimeout bounds declaring the broker queue at start-up.
	startupTimeout = 15 * time.Second
	// shutdownTimeout bounds the wait for HTTP requests in flight.
	shutdownTimeout = 10 * time.Second
	// repairInterval is how often the grants repairer looks for tickets
	// whose Keto tuples are missing; repairGrace is how old such a ticket
	// must be (younger ones may still be in their create request).
	repairInterval = 10 * time.Second
	repairGrace    = 30 * time.Second
	// retryBase is the consumer's first retry backoff (doubling, up to
	// events.MaxDeliveries deliveries: about 15 s in all). An order event
	// for a ticket another order still holds waits this long for that
	// order's cancellation before it is dead-lettered.
	retryBase = time.Second
)

// Service is the wired tickets service.
type Service struct {
	// Handler serves the HTTP API, /healthz and /readyz.
	Handler http.Handler

	app      app.Application
	consumer *events.Consumer
	relay    *events.Relay
	logger   *slog.Logger
	closers  []func()
}

// New connects the adapters (creating the database's indexes and
// declaring the service's queue), builds the application and its ports.
// Close releases what New opened, also after New failed half-way.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (svc *Service, err error) {
	s := &Service{logger: logger}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	client, err := mongodb.Connect(cfg.MongoURI)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.disconnect(ctx, client) })
	conn := events.NewConnection(cfg.RabbitMQURL, logger)
	publisher := events.NewPublisher(conn)
	s.closers = append(s.closers, publisher.Close, func() { _ = conn.Close() })

	waker := &events.RelayRef{}
	tickets, err := adapters.NewMongoTicketRepository(ctx, client.Database(cfg.MongoDatabase), waker)
	if err != nil {
		return nil, fmt.Errorf("tickets: mongo at start-up: %w", err)
	}
	s.relay = events.NewRelay(tickets.Outbox(), publisher, logger)
	waker.Set(s.relay)

	httpClient := httpclient.New(dependencyTimeout)
	ketoClient, err := keto.New(cfg.Keto, httpClient)
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(cfg.Session, httpClient)
	if err != nil {
		return nil, err
	}
	permissions := adapters.NewKetoPermissions(ketoClient)
	s.app = app.Application{
		CreateTicket: app.NewCreateTicketHandler(tickets, permissions, adapters.NewTicketID, logger),
		EditTicket:   app.NewEditTicketHandler(tickets, permissions),
		GetTicket:    app.NewGetTicketHandler(tickets, permissions),
		ListTickets:  app.NewListTicketsHandler(tickets),
		ApplyOrder:   app.NewApplyOrderHandler(tickets, logger),
		RepairGrants: app.NewRepairGrantsHandler(tickets, permissions, repairGrace, logger),
	}

	s.consumer = events.NewConsumer(conn, ports.ConsumerName, logger)
	s.consumer.RetryBase = retryBase
	ports.NewEventHandlers(s.app).Register(s.consumer)
	declareCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if err := s.consumer.Declare(declareCtx); err != nil {
		return nil, fmt.Errorf("tickets: declare queue %s at start-up: %w", events.QueueName(ports.ConsumerName), err)
	}

	engine := httpserver.New(logger,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "rabbitmq", Run: conn.Ready},
		httpserver.Check{Name: "keto", Run: ketoClient.Ready},
		httpserver.Check{Name: "kratos", Run: kratosReady(cfg.Session.KratosPublicURL, httpClient)},
	)
	engine.Use(httpserver.Admit(cfg.HTTP.MaxInFlight, cfg.HTTP.QueueWait))
	ports.NewHTTPServer(s.app, sessions, pagination.NewSigner(cfg.CursorSecret)).Register(engine)
	s.Handler = engine
	return s, nil
}

// Close releases the clients, in reverse order of opening.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func (s *Service) disconnect(ctx context.Context, client *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := client.Disconnect(ctx); err != nil {
		s.logger.Warn("mongo disconnect failed", slog.String("error", err.Error()))
	}
}
