// Package service wires the expiration service: order events in, Asynq
// timeouts on Redis, expiries with their events in Mongo, the outbox relay
// out.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ticketing/ticketing/expiration/adapters"
	"github.com/ticketing/ticketing/expiration/app"
	"github.com/ticketing/ticketing/expiration/ports"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// Config is the expiration service's configuration, from the environment.
type Config struct {
	HTTP httpserver.Config // HTTP_ADDR
	Log  logging.Config    // LOG_LEVEL

	MongoURI      string `env:"MONGO_URI,required"`
	MongoDatabase string `env:"MONGO_DATABASE" default:"expiration"`
	RabbitMQURL   string `env:"RABBITMQ_URL,required"`
	RedisAddr     string `env:"REDIS_ADDR,required"`
	// Concurrency is how many timeouts fire at once.
	Concurrency int `env:"EXPIRATION_CONCURRENCY" default:"10" validate:"min=1,max=1000"`
}

// Service is the wired service.
type Service struct {
	Handler http.Handler
	run     []func(context.Context) error
	close   []func() error
	log     *slog.Logger
	tasks   *asynq.Server
	mux     *asynq.ServeMux
}

// New connects the adapters and builds the service; Run starts it.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Service, error) {
	s := &Service{log: log}
	client, err := mongodb.Connect(cfg.MongoURI)
	if err != nil {
		return nil, err
	}
	s.close = append(s.close, func() error { return client.Disconnect(context.Background()) })

	conn := events.NewConnection(cfg.RabbitMQURL, log)
	s.close = append(s.close, conn.Close)
	publisher := events.NewPublisher(conn)
	waker := &events.RelayRef{}
	expirations, err := adapters.NewMongoExpirations(ctx, client.Database(cfg.MongoDatabase), waker)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("expiration: mongo at start-up: %w", err)
	}
	relay := events.NewRelay(expirations, publisher, log)
	waker.Set(relay)

	redisOpt := asynq.RedisClientOpt{Addr: cfg.RedisAddr}
	scheduler := adapters.NewAsynqScheduler(redisOpt)
	s.close = append(s.close, scheduler.Close)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	s.close = append(s.close, rdb.Close)

	a := app.Application{
		Schedule:   app.NewScheduleHandler(scheduler, log),
		Unschedule: app.NewUnscheduleHandler(scheduler),
		Expire:     app.NewExpireHandler(expirations),
	}
	consumer := events.NewConsumer(conn, "expiration", log)
	ports.Subscribe(consumer, a)
	s.mux = ports.Tasks(a)
	s.tasks = asynq.NewServer(redisOpt, asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          map[string]int{adapters.Queue: 1},
		ShutdownTimeout: 8 * time.Second,
		Logger:          asynqLogger{log},
	})
	s.run = append(s.run, relay.Run, consumer.Run)
	s.Handler = httpserver.New(log,
		httpserver.Check{Name: "mongo", Run: mongodb.Ping(client)},
		httpserver.Check{Name: "rabbitmq", Run: conn.Ready},
		httpserver.Check{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		httpserver.Check{Name: "timeouts", Describe: scheduler.State},
	)
	return s, nil
}

// Run serves until ctx ends: HTTP on addr, the event consumer, the Asynq
// worker and the outbox relay. On shutdown HTTP stops first, then the
// consumer and the worker finish what they hold, then the relay flushes.
func (s *Service) Run(ctx context.Context, addr string) error {
	if err := s.tasks.Start(s.mux); err != nil {
		return fmt.Errorf("asynq: %w", err)
	}
	errs := make(chan error, len(s.run)+1)
	for _, r := range s.run {
		go func() { errs <- r(ctx) }()
	}
	err := httpserver.Run(ctx, s.Handler, addr, 10*time.Second)
	s.tasks.Shutdown()
	for range s.run {
		err = errors.Join(err, <-errs)
	}
	return err
}

// Close closes the clients.
func (s *Service) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		if err := s.close[i](); err != nil {
			s.log.Warn("close failed", "error", err.Error())
		}
	}
}

// asynqLogger sends Asynq's own log lines to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
