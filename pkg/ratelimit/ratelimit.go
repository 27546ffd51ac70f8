// Package ratelimit counts requests and failures in Redis, so that every
// instance of a service shares one count per key.
//
// Two tools, each one atomic Lua script over a single Redis key (so they stay
// correct with any number of instances, and each key may live on any Redis
// Cluster slot), timed by the Redis server's clock (so instances with skewed
// clocks agree):
//
//   - Limiter admits requests at a Rate (Allow). It uses the generic cell
//     rate algorithm (GCRA): up to Rate.Limit requests at once, then one every
//     Rate.Period/Rate.Limit; a refused request is not counted. Check asks
//     the same without counting, for a caller that counts only what it
//     went on to do.
//   - Backoff delays a key after repeated failures (Failure), answers how long
//     the key must still wait (Check) and forgets it on success (Reset). The
//     delay doubles with each failure past Policy.Free, capped at Policy.Max.
//
// Keys are what the caller counts by (a client address, an account, a user
// id); each Limiter and Backoff has its own prefix, so the same key under two
// limits never collides. A caller answers a refusal with
// apierr.RateLimitedFor, which httpserver.WriteError sends as a 429 with
// Retry-After; a Redis failure is a dependency being unavailable (503):
//
//	// Config: CreateRate ratelimit.Rate `env:"ORDER_CREATE_RATE" default:"10/1m"`
//	perUser := ratelimit.NewLimiter(rdb, "orders:create:user", cfg.CreateRate)
//	ok, retryAfter, err := perUser.Allow(ctx, userID)
//	if err != nil {
//		return apierr.Unavailable("the rate limiter", err)
//	}
//	if !ok {
//		return apierr.RateLimitedFor("too many orders, retry later", retryAfter)
//	}
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client is the part of a go-redis client the package uses; *redis.Client,
// *redis.ClusterClient and *redis.Ring implement it.
type Client interface {
	redis.Scripter
	Del(ctx context.Context, keys ...string) *redis.IntCmd
}

// Rate is Limit requests per Period.
type Rate struct {
	Limit  int
	Period time.Duration
}

// UnmarshalText reads a rate written "LIMIT/PERIOD", such as "10/1m" or
// "5/1s" (PERIOD a Go duration), so that a rate is one setting.
func (r *Rate) UnmarshalText(text []byte) error {
	limit, period, ok := strings.Cut(string(text), "/")
	if !ok {
		return fmt.Errorf("ratelimit: rate %q: want LIMIT/PERIOD, e.g. 10/1m", text)
	}
	var parsed Rate
	var err error
	if parsed.Limit, err = strconv.Atoi(limit); err != nil {
		return fmt.Errorf("ratelimit: rate %q: limit %q is not a whole number", text, limit)
	}
	if parsed.Period, err = time.ParseDuration(period); err != nil {
		return fmt.Errorf("ratelimit: rate %q: period: %w", text, err)
	}
	if err := parsed.Validate(); err != nil {
		return err
	}
	*r = parsed
	return nil
}

// Validate reports a rate that admits nothing or is not a rate.
func (r Rate) Validate() error {
	if r.Limit < 1 || r.Period < time.Millisecond {
		return fmt.Errorf("ratelimit: rate %d per %s: need at least 1 per 1ms or longer", r.Limit, r.Period)
	}
	return nil
}

// Limiter admits requests per key at a Rate, across every instance that
// shares its Redis and prefix.
type Limiter struct {
	rdb    Client
	prefix string
	rate   Rate
}

// NewLimiter returns a limiter of rate under prefix; it panics on an invalid
// rate (a programming or configuration error caught at start-up).
func NewLimiter(rdb Client, prefix string, rate Rate) *Limiter {
	if err := rate.Validate(); err != nil {
		panic(err)
	}
	return &Limiter{rdb: rdb, prefix: prefix, rate: rate}
}

// gcra keeps, per key, the theoretical arrival time (TAT, milliseconds on
// the Redis clock) of the next request at the steady rate. A request is
// admitted when, counting it, the TAT is at most one period ahead of now;
// the key then expires when it would have drained back to nothing.
// KEYS[1] key; ARGV[1] emission interval (ms per request), ARGV[2] period
// (ms), ARGV[3] "1" to count an admitted request, "0" only to ask.
// Returns {admitted 0|1, retry after ms}.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local ahead = next_tat - now
if ahead > period then
  return {0, ahead - period}
end
if ARGV[3] ~= '1' then
  return {1, 0}
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', ahead))
return {1, 0}
`)

// Allow counts one request for key and says whether it is admitted; when it
// is not, retryAfter is how long until one would be. A refused request does
// not count against the key.
func (l *Limiter) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	return l.run(ctx, key, true)
}

// Check says whether a request for key would be admitted now, counting
// nothing; retryAfter as for Allow. A caller that must count only what it
// went on to do (a hold actually made, not an attempt that failed) checks
// first and calls Allow once it is done.
func (l *Limiter) Check(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	return l.run(ctx, key, false)
}

func (l *Limiter) run(ctx context.Context, key string, count bool) (bool, time.Duration, error) {
	interval := max(l.rate.Period.Milliseconds()/int64(l.rate.Limit), 1)
	counting := "0"
	if count {
		counting = "1"
	}
	res, err := gcra.Run(ctx, l.rdb, []string{l.prefix + ":" + key}, interval, l.rate.Period.Milliseconds(), counting).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: %s: %w", l.prefix, err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}

// Policy shapes a Backoff: the first Free failures cost nothing; failure
// number Free+n makes the key wait Base·2^(n-1), at most Max. A key's
// failures are forgotten Memory after its last one (or at once on Reset).
type Policy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Memory time.Duration
}

// Validate reports a policy whose delays cannot be computed.
func (p Policy) Validate() error {
	var problems []error
	if p.Free < 0 {
		problems = append(problems, fmt.Errorf("ratelimit: policy: free failures %d < 0", p.Free))
	}
	if p.Base < time.Millisecond || p.Max < p.Base {
		problems = append(problems, fmt.Errorf("ratelimit: policy: need 1ms ≤ base (%s) ≤ max (%s)", p.Base, p.Max))
	}
	if p.Memory < p.Max {
		problems = append(problems, fmt.Errorf("ratelimit: policy: memory %s shorter than max %s", p.Memory, p.Max))
	}
	return errors.Join(problems...)
}

// Backoff delays keys that keep failing (wrong passwords for an account,
// say), across every instance that shares its Redis and prefix.
type Backoff struct {
	rdb    Client
	prefix string
	policy Policy
}

// NewBackoff returns a backoff of policy under prefix; it panics on an
// invalid policy (a programming or configuration error caught at start-up).
func NewBackoff(rdb Client, prefix string, policy Policy) *Backoff {
	if err := policy.Validate(); err != nil {
		panic(err)
	}
	return &Backoff{rdb: rdb, prefix: prefix, policy: policy}
}

// failure counts one failure in the hash KEYS[1] (fields n: failures, until:
// the Redis-clock millisecond the key is blocked until) and blocks the key
// for the doubled delay once past the free ones. ARGV: free, base ms, max
// ms, memory ms. Returns the delay in ms (0: none yet).
var failure = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local free, base, cap, memory = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local delay = 0
if n > free then
  local doublings = n - free - 1
  if doublings > 40 then doublings = 40 end
  delay = base * (2 ^ doublings)
  if delay > cap then delay = cap end
  delay = math.floor(delay)
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + delay))
end
redis.call('PEXPIRE', KEYS[1], memory)
return delay
`)

// check answers how many ms KEYS[1] must still wait (0: none).
var check = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if blocked > now then return blocked - now end
return 0
`)

// Check says how long key must still wait before its next attempt; 0 means
// it may try now.
func (b *Backoff) Check(ctx context.Context, key string) (time.Duration, error) {
	ms, err := check.Run(ctx, b.rdb, []string{b.prefix + ":" + key}).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: check %s: %w", b.prefix, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Failure counts a failure for key and returns the delay it now imposes (0
// while the failures are free).
func (b *Backoff) Failure(ctx context.Context, key string) (time.Duration, error) {
	p := b.policy
	ms, err := failure.Run(ctx, b.rdb, []string{b.prefix + ":" + key},
		p.Free, p.Base.Milliseconds(), p.Max.Milliseconds(), p.Memory.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: failure %s: %w", b.prefix, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Reset forgets key's failures, after a success.
func (b *Backoff) Reset(ctx context.Context, key string) error {
	if err := b.rdb.Del(ctx, b.prefix+":"+key).Err(); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", b.prefix, err)
	}
	return nil
}
