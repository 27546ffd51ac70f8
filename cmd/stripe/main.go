// Command stripe plays Stripe's part for the local stack, like `stripe
// trigger`: stripe-mock never completes a payment, so this sends the
// webhook event Stripe would send about a payment, signed with the stack's
// STRIPE_WEBHOOK_SECRET, to the payments webhook through nginx, and prints
// the answer.
//
//	go run ./cmd/stripe succeeded <payment id or order id>
//	go run ./cmd/stripe failed    <payment id or order id>
//	go run ./cmd/stripe refunded  <payment id or order id>
//
// It reads the payment from the payments database. It talks to the stack
// of `make up` (STACK_PROFILE=test for the tests' stack), or to MONGO_URI,
// PUBLIC_URL and STRIPE_WEBHOOK_SECRET when all three are set in the
// environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/internal/stripeevent"
	"github.com/ticketing/ticketing/pkg/httpclient"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "stripe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: stripe succeeded|failed|refunded <payment id or order id>")
	}
	t, err := stripeevent.ParseType(args[0])
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	env, err := stackEnv()
	if err != nil {
		return err
	}
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(env["MONGO_URI"]).SetServerSelectionTimeout(5*time.Second))
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	p, err := stripeevent.Find(ctx, client.Database("payments"), args[1])
	if err != nil {
		return err
	}
	e, err := stripeevent.New(t, p, time.Now())
	if err != nil {
		return err
	}
	resp, err := stripeevent.Deliver(ctx, httpclient.New(20*time.Second), env["PUBLIC_URL"], env["STRIPE_WEBHOOK_SECRET"], e)
	if err != nil {
		return err
	}
	fmt.Printf("sent %s %s for payment %s (order %s, %s)\n", e.Type, e.ID, p.ID, p.OrderID, p.StripeID)
	fmt.Printf("%s%s answered %d: %s\n", env["PUBLIC_URL"], stripeevent.WebhookPath, resp.Status, resp.Body)
	if resp.Status/100 != 2 {
		return fmt.Errorf("the webhook refused the event (%d)", resp.Status)
	}
	return nil
}

// stackEnv finds the database, the site and the webhook secret: the
// environment first, else the local stack.
func stackEnv() (stack.Env, error) {
	env := stack.ProcessEnv()
	if env["MONGO_URI"] != "" && env["PUBLIC_URL"] != "" && env["STRIPE_WEBHOOK_SECRET"] != "" {
		return env, nil
	}
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
	return s.Env(), nil
}
