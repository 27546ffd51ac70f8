// Command admin grants and revokes the admin role: membership of
// Group:admin in Keto (Group:admin#members@User:<id>). Admins may edit any
// ticket and view any order and payment, through the admins relation every
// resource gets when it is created.
//
//	go run ./cmd/admin grant ada@example.com
//	go run ./cmd/admin revoke 5f0c…-uuid
//	go run ./cmd/admin list
//
// A user is named by email (looked up in Kratos) or by Kratos identity id.
// It talks to the local stack of `make up` (STACK_PROFILE=test for the
// tests' stack), or to KRATOS_ADMIN_URL and KETO_READ_URL/KETO_WRITE_URL
// when those are set in the environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/ticketing/ticketing/internal/admin"
	"github.com/ticketing/ticketing/internal/stack"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || (args[0] != "list" && len(args) != 2) {
		return fmt.Errorf("usage: admin grant|revoke <email or identity id> | admin list")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := open()
	if err != nil {
		return err
	}
	switch args[0] {
	case "grant", "revoke":
		id, err := a.Resolve(ctx, args[1])
		if err != nil {
			return err
		}
		if args[0] == "grant" {
			err = a.Grant(ctx, id)
		} else {
			err = a.Revoke(ctx, id)
		}
		if err != nil {
			return err
		}
		fmt.Printf("%sed admin: User:%s\n", args[0], id)
		return nil
	case "list":
		ids, err := a.List(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			fmt.Println(id)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// open finds Kratos and Keto: the environment first, else the local stack.
func open() (*admin.Admins, error) {
	env := stack.ProcessEnv()
	if env["KRATOS_ADMIN_URL"] == "" || env["KETO_WRITE_URL"] == "" || env["KETO_READ_URL"] == "" {
		root, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		o, err := stack.Profile(env["STACK_PROFILE"], root, nil)
		if err != nil {
			return nil, err
		}
		s, err := stack.New(o)
		if err != nil {
			return nil, err
		}
		env = s.Env()
	}
	return admin.New(env["KRATOS_ADMIN_URL"], env["KETO_READ_URL"], env["KETO_WRITE_URL"])
}
