// Command orders serves the orders of tickets: buyers reserve a ticket,
// cancel, and see their orders; sellers see the orders of their tickets.
// It keeps a replica of the tickets from their events and reacts to
// expirations and payments.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketing/ticketing/orders/service"
	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
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
	logger := logging.New(os.Stdout, "orders", cfg.Log.Level)
	svc, err := service.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer svc.Close()
	logger.Info("serving", "addr", cfg.HTTP.Addr)
	httpserver.ServeDebug(ctx, cfg.HTTP.DebugAddr, logger)
	return svc.Run(ctx, cfg.HTTP.Addr)
}
