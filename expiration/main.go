// Command expiration times orders out: it schedules an Asynq task on Redis
// at each order's expiresAt and publishes expiration.completed when the
// hold window ends.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketing/ticketing/expiration/service"
	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "expiration:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg service.Config
	if err := config.Load(&cfg); err != nil {
		return err
	}
	log := logging.New(os.Stdout, "expiration", cfg.Log.Level)
	s, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	log.Info("serving", "addr", cfg.HTTP.Addr)
	httpserver.ServeDebug(ctx, cfg.HTTP.DebugAddr, log)
	return s.Run(ctx, cfg.HTTP.Addr)
}
