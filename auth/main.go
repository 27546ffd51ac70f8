// Command auth serves sign-up, sign-in, sign-out and the current user on top
// of Ory Kratos, and keeps auth's copy of the users.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ticketing/ticketing/auth/service"
	"github.com/ticketing/ticketing/pkg/config"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
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
	logger := logging.New(os.Stdout, "auth", cfg.Log.Level)
	handler, cleanup, err := service.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	logger.Info("serving", "addr", cfg.HTTP.Addr)
	httpserver.ServeDebug(ctx, cfg.HTTP.DebugAddr, logger)
	return httpserver.Run(ctx, handler, cfg.HTTP.Addr, 10*time.Second)
}
