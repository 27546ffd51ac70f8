// Command stack runs the whole system locally without Docker:
//
//	stack up      install, build and start everything; print the URL
//	stack down    stop exactly what `up` started; keep the data
//	stack wipe    stop, then delete the state folder (data, logs)
//	stack status  what runs and what is ready
//	stack env     the TEST_* variables that point tests at this stack
//	stack render -out DIR   render the nginx, Kratos and Keto templates from
//	                        the environment (docker-compose's config service)
//
// STACK_PROFILE picks the stack: dev (default; settings from .env.example,
// then .env, then the environment, e.g. `ORDER_EXPIRATION_WINDOW=12s make up`;
// STATE_DIR and PORT_OFFSET let a second one run beside it), test (the
// end-to-end tests' isolated stack) or bench (`make bench`'s, with the load
// test's limits raised).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketing/ticketing/internal/stack"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: stack up|down|wipe|status|render -out DIR")
	}
	if args[0] == "render" {
		fs := flag.NewFlagSet("render", flag.ExitOnError)
		out := fs.String("out", "rendered", "folder to write the rendered configuration to")
		root := fs.String("root", ".", "repository root (where nginx/ and ory/ are)")
		_ = fs.Parse(args[1:])
		return stack.RenderAll(*root, *out, stack.ProcessEnv())
	}
	s, err := open()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "up":
		return s.Up(ctx)
	case "down":
		return s.Down()
	case "wipe":
		return s.Wipe()
	case "status":
		s.Status(ctx)
		return nil
	case "env":
		for _, kv := range s.TestEnv().List() {
			fmt.Printf("export %q\n", kv)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func open() (*stack.Stack, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	o, err := stack.Profile(os.Getenv("STACK_PROFILE"), root, os.Stdout)
	if err != nil {
		return nil, err
	}
	return stack.New(o)
}
