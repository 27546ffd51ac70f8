package service_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/ticketing/ticketing/payments/service"
	"github.com/ticketing/ticketing/pkg/config"
)

func lookup(env map[string]string) config.Lookup {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func requiredEnv() map[string]string {
	return map[string]string{
		"MONGO_URI":             "mongodb://127.0.0.1:27017/",
		"KRATOS_PUBLIC_URL":     "http://127.0.0.1:4433",
		"KETO_READ_URL":         "http://127.0.0.1:4466",
		"KETO_WRITE_URL":        "http://127.0.0.1:4467",
		"RABBITMQ_URL":          "amqp://guest:guest@127.0.0.1:5672/",
		"ORDERS_URL":            "http://127.0.0.1:4003",
		"STRIPE_SECRET_KEY":     "sk_test_123",
		"STRIPE_WEBHOOK_SECRET": "whsec_" + rand.Text(),
		"CURSOR_SECRET":         rand.Text(),
	}
}

func TestConfig_DefaultsAndContractVariables(t *testing.T) {
	t.Parallel()
	var c service.Config
	if err := config.LoadFrom(&c, lookup(requiredEnv())); err != nil {
		t.Fatal(err)
	}
	if c.MongoDatabase != "payments" || c.StripeAPIBase != "https://api.stripe.com" || c.HTTP.Addr != ":4000" {
		t.Fatalf("defaults: database %q, Stripe %q, addr %q", c.MongoDatabase, c.StripeAPIBase, c.HTTP.Addr)
	}
	env := requiredEnv()
	env["STRIPE_API_BASE"], env["MONGO_DATABASE"] = "http://127.0.0.1:12111", "payments_e2e"
	c = service.Config{}
	if err := config.LoadFrom(&c, lookup(env)); err != nil {
		t.Fatal(err)
	}
	if c.StripeAPIBase != "http://127.0.0.1:12111" || c.MongoDatabase != "payments_e2e" {
		t.Fatalf("read %q %q", c.StripeAPIBase, c.MongoDatabase)
	}
}

func TestConfig_RefusesMissingOrMisshapenStripeSecrets(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		name, value string
		want        string
	}{
		"no secret key":            {"STRIPE_SECRET_KEY", "", "STRIPE_SECRET_KEY: required but not set"},
		"no webhook secret":        {"STRIPE_WEBHOOK_SECRET", "", "STRIPE_WEBHOOK_SECRET: required but not set"},
		"publishable key":          {"STRIPE_SECRET_KEY", "pk_test_123", "STRIPE_SECRET_KEY: must be a Stripe secret or restricted key"},
		"webhook secret swap":      {"STRIPE_WEBHOOK_SECRET", "sk_test_123456789", "STRIPE_WEBHOOK_SECRET: must be a Stripe webhook signing secret"},
		"published webhook secret": {"STRIPE_WEBHOOK_SECRET", config.DevelopmentSecrets["STRIPE_WEBHOOK_SECRET"], "STRIPE_WEBHOOK_SECRET: holds a secret published in the ticketing repository"},
		"Stripe base not a URL":    {"STRIPE_API_BASE", "stripe-mock:12111", "STRIPE_API_BASE: must be an absolute http or https URL"},
		"no orders service":        {"ORDERS_URL", "", "ORDERS_URL: required but not set"},
		"no cursor secret":         {"CURSOR_SECRET", "", "CURSOR_SECRET: required but not set"},
		"short cursor secret":      {"CURSOR_SECRET", "short", "CURSOR_SECRET: must be at least 16 characters long"},
		"published cursor secret":  {"CURSOR_SECRET", config.DevelopmentSecrets["CURSOR_SECRET"], "CURSOR_SECRET: holds a secret published in the ticketing repository"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := requiredEnv()
			env[c.name] = c.value
			var cfg service.Config
			err := config.LoadFrom(&cfg, lookup(env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}
