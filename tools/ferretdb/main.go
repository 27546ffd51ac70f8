// Command ferretdb runs FerretDB (the MongoDB wire protocol on SQLite) for the
// local stack and the tests, since no MongoDB server can be installed here.
// Production uses real MongoDB (see docker-compose.yml).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "data/ferretdb", "folder for the SQLite databases (without -postgresql-url)")
	pg := flag.String("postgresql-url", "", "store the data in this PostgreSQL database instead of SQLite files")
	level := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	debug := flag.String("debug-addr", "", "serve Go's profiler (/debug/pprof/) on this address")
	flag.Parse()
	if *debug != "" {
		go func() { _ = http.ListenAndServe(*debug, nil) }() // net/http/pprof's handlers
	}

	if err := run(*listen, *dir, *pg, *level); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dir, pg, level string) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	cfg := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	}
	if pg != "" {
		cfg.Handler, cfg.PostgreSQLURL, cfg.SQLiteURL = "postgresql", pg, ""
	}
	db, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return db.Run(ctx)
}
