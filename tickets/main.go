// Command tickets serves the ticket listings (create, browse, search,
// edit) and keeps each ticket's status in step with the orders placed on
// it, from their events.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/tickets/service"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
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
	logger := logging.New(os.Stdout, "tickets", cfg.Log.Level)
	svc, err := service.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer svc.Close()
	httpserver.ServeDebug(ctx, cfg.HTTP.DebugAddr, logger)
	return svc.Run(ctx, cfg.HTTP.Addr)
}
