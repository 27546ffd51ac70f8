package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// RateLimiter admits requests per key at a rate (pkg/ratelimit.Limiter).
type RateLimiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// FailureBackoff delays keys that keep failing (pkg/ratelimit.Backoff).
type FailureBackoff interface {
	Check(ctx context.Context, key string) (time.Duration, error)
	Failure(ctx context.Context, key string) (time.Duration, error)
	Reset(ctx context.Context, key string) error
}

// AttemptKind says what an attempt risks, and so which limits apply.
type AttemptKind int

const (
	// PasswordCheck is a sign-in: wrong passwords back the account off.
	PasswordCheck AttemptKind = iota
	// AccountMail is a registration, recovery or verification: each sends
	// mail to, or probes the existence of, the account it names, so it is
	// rate limited per identifier.
	AccountMail
	// AccountChange is a settings submission: the session names the
	// account, so only the address limit applies.
	AccountChange
)

// Attempt is one submission of a password or an account form.
type Attempt struct {
	Kind AttemptKind
	// Address is the client's address, as nginx determined it.
	Address string
	// Identifier is the account the attempt names (a normalised email), or
	// "" when it names none.
	Identifier string
}

// Outcome is what became of an attempt.
type Outcome int

const (
	// Undecided: neither a success nor a refused password (a malformed or
	// expired flow, a dependency failing).
	Undecided Outcome = iota
	// Succeeded: the password was right; the account's failures are
	// forgotten.
	Succeeded
	// Failed: the password was refused; the account backs off.
	Failed
)

// Attempts limits every path that checks a password or creates an account:
// per client address (a rate), per account identifier (a rate on mail
// sending paths), and by failures per account. Failures back off the
// account at the attacker's address (PerAccountAndAddress: a few free
// failures, then a doubling delay up to its cap) long before the account
// everywhere (PerAccount: a much higher free count), so that one address
// guessing passwords cannot lock the owner out, and many addresses together
// are still slowed down.
type Attempts struct {
	PerAddress           RateLimiter
	PerIdentifier        RateLimiter
	PerAccountAndAddress FailureBackoff
	PerAccount           FailureBackoff
	Logger               *slog.Logger
}

// Admit counts an attempt and refuses it (429 rate_limited with a retry
// delay) while any limit holds it back; 503 if the limits cannot be read.
// Concurrent attempts may all pass before the first failure is recorded:
// the address rate bounds how many.
func (a *Attempts) Admit(ctx context.Context, at Attempt) error {
	address := addressKey(at.Address)
	if err := a.allow(ctx, a.PerAddress, address, "too many attempts from this address, retry later"); err != nil {
		return err
	}
	if at.Identifier == "" {
		return nil
	}
	account := identifierKey(at.Identifier)
	switch at.Kind {
	case PasswordCheck:
		var wait time.Duration
		for _, c := range []struct {
			backoff FailureBackoff
			key     string
		}{{a.PerAccountAndAddress, account + "|" + address}, {a.PerAccount, account}} {
			w, err := c.backoff.Check(ctx, c.key)
			if err != nil {
				return apierr.Unavailable("the rate limiter", err)
			}
			wait = max(wait, w)
		}
		if wait > 0 {
			return apierr.RateLimitedFor("too many failed sign-ins for this account, retry later", wait)
		}
	case AccountMail:
		return a.allow(ctx, a.PerIdentifier, account, "too many attempts for this account, retry later")
	case AccountChange:
	}
	return nil
}

func (a *Attempts) allow(ctx context.Context, l RateLimiter, key, message string) error {
	ok, wait, err := l.Allow(ctx, key)
	if err != nil {
		return apierr.Unavailable("the rate limiter", err)
	}
	if !ok {
		return apierr.RateLimitedFor(message, wait)
	}
	return nil
}

// Record notes the outcome of an admitted password check: a failure backs
// the account off, a success forgets its failures. The answer to the client
// is decided already, so a limiter error is logged, not returned.
func (a *Attempts) Record(ctx context.Context, at Attempt, outcome Outcome) {
	if at.Kind != PasswordCheck || at.Identifier == "" || outcome == Undecided {
		return
	}
	// A client that hangs up once it has its answer must not escape the count.
	ctx = context.WithoutCancel(ctx)
	account := identifierKey(at.Identifier)
	keys := []struct {
		backoff FailureBackoff
		key     string
	}{{a.PerAccountAndAddress, account + "|" + addressKey(at.Address)}, {a.PerAccount, account}}
	for _, k := range keys {
		var err error
		if outcome == Succeeded {
			err = k.backoff.Reset(ctx, k.key)
		} else {
			_, err = k.backoff.Failure(ctx, k.key)
		}
		if err != nil {
			a.Logger.WarnContext(ctx, "sign-in outcome not recorded", slog.String("error", err.Error()))
		}
	}
}

// identifierKey keeps emails out of Redis: the limits need only to tell
// accounts apart.
func identifierKey(identifier string) string {
	sum := sha256.Sum256([]byte(identifier))
	return hex.EncodeToString(sum[:16])
}

// addressKey is the bucket of a client address: an IPv4 address, or the
// /64 an IPv6 address belongs to (one subscriber gets a whole /64, so
// single IPv6 addresses would cost an attacker nothing).
func addressKey(address string) string {
	ip := net.ParseIP(address)
	if ip == nil {
		return address
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
