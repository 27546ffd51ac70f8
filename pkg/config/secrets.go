package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// RunnerVariable is how the local stack runner (cmd/stack, behind `make up`,
// `make test` and `make bench`) tells a process it started which of its
// profiles it runs: dev, test or bench. Only under those profiles may a
// secret hold a published value. The runner sets it itself, over whatever
// .env or the caller's environment say, and docker-compose.yml never sets it
// (e2e/compose checks that), so no configuration file can switch a real
// deployment into development mode.
const RunnerVariable = "TICKETING_STACK_RUNNER"

// RunnerProfiles are the stack runner's profiles.
var RunnerProfiles = []string{"dev", "test", "bench"}

// DevelopmentSecrets are the fixed secrets of the stack runner's profiles,
// by variable. They are published in this repository, so anyone can sign a
// Stripe event, forge a list cursor or call the sign-up web hook of a stack
// that uses them: a process refuses them unless the runner started it.
var DevelopmentSecrets = map[string]string{
	"AUTH_WEBHOOK_API_KEY":  "dev-webhook-key-not-for-production",
	"KRATOS_COOKIE_SECRET":  "ticketing-dev-cookie-secret-not-for-production",
	"KRATOS_CIPHER_SECRET":  "ticketing-dev-cipher-secret-0001",
	"CURSOR_SECRET":         "ticketing-dev-cursor-secret-not-for-production",
	"STRIPE_WEBHOOK_SECRET": "whsec_ticketing_local_development_secret",
	"STRIPE_SECRET_KEY":     "sk_test_ticketinglocal",
}

// retiredSecrets were published as secrets by earlier versions of the
// repository (examples in tests and docs); they stay refused.
var retiredSecrets = []string{
	"0123456789abcdef-cursor",
	"dev-webhook-key-change-me",
	"0123456789abcdef",
	"ticketing-dev-postgres",
	"ticketing-dev-rabbitmq",
}

// Published reports whether value is a secret that was ever published in
// this repository (a development secret or an old example).
func Published(value string) bool {
	for _, v := range DevelopmentSecrets {
		if value == v {
			return true
		}
	}
	return slices.Contains(retiredSecrets, value)
}

// RunnerProfile returns the stack runner's profile that started this
// process, or "" when the runner did not start it.
func RunnerProfile(lookup Lookup) string {
	v, _ := lookup(RunnerVariable)
	v = strings.TrimSpace(v)
	if slices.Contains(RunnerProfiles, v) {
		return v
	}
	return ""
}

// refusedSecret says why a secret's value is refused.
const refusedSecret = "holds a secret published in the ticketing repository, which only the local " +
	"stack runner (make up, make test, make bench) may use; generate your own (README.md, \"Secrets\")"

// refused reports whether value may not be used as a secret here.
func refused(value string, lookup Lookup) bool {
	return Published(value) && RunnerProfile(lookup) == ""
}

// CheckSecret refuses a published value for the secret variable name unless
// the stack runner started this process. The value itself is never echoed.
func CheckSecret(name, value string, lookup Lookup) error {
	if refused(value, lookup) {
		return fmt.Errorf("%s: %s", name, refusedSecret)
	}
	return nil
}

// secretRule is the validate tag's "secret" rule: CheckSecret for a string.
func secretRule(t reflect.Type, lookup Lookup) (rule, error) {
	if t.Kind() != reflect.String {
		return nil, fmt.Errorf("validate rule secret does not apply to type %s", t)
	}
	return func(v reflect.Value, _ string) error {
		if refused(v.String(), lookup) {
			return errors.New(refusedSecret)
		}
		return nil
	}, nil
}
