// Command loadgen measures a running stack through nginx and writes the
// figures into docs/performance.md (between its markers) and the chart
// next to it. `make bench` starts a fresh benchmark stack and runs it:
//
//	go run ./cmd/loadgen            # the full run, about ten minutes
//	go run ./cmd/loadgen -quick     # every phase, small, about a minute
//
// STACK_PROFILE names the stack to measure (bench unless set; the stack
// must be up).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/ticketing/ticketing/internal/loadgen"
	"github.com/ticketing/ticketing/internal/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "a small run of every phase (a smoke test of the benchmark)")
	doc := flag.String("doc", "docs/performance.md", "document to write the figures into (empty: do not write)")
	flag.Parse()

	profile := os.Getenv("STACK_PROFILE")
	if profile == "" {
		profile = "bench"
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	o, err := stack.Profile(profile, root, os.Stderr)
	if err != nil {
		return err
	}
	s, err := stack.New(o)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	t, err := loadgen.Open(ctx, s.TestEnv())
	if err != nil {
		return err
	}
	defer t.Close()

	cfg := loadgen.Full
	if *quick {
		cfg = loadgen.Quick
	}
	r, err := loadgen.Run(ctx, t, cfg, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Print("\n" + r.Headline())
	if *doc == "" {
		return nil
	}
	chart := "performance-orders.svg"
	if err := os.WriteFile(filepath.Join(filepath.Dir(*doc), chart), []byte(r.Chart()), 0o644); err != nil {
		return err
	}
	old, err := os.ReadFile(*doc)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(*doc, []byte(loadgen.Splice(string(old), r.Markdown(chart))), 0o644)
}
