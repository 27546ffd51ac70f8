package loadgen

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Config sizes a benchmark run.
type Config struct {
	// Buyers and Sellers are the accounts signed up before anything is
	// measured (sign-up is bcrypt bound: about 8 a second here).
	Buyers, Sellers int
	// Levels are the concurrencies of the order sweep, each run for Step.
	Levels []int
	Step   time.Duration
	// Sustained is the length of the sustained order run.
	Sustained time.Duration
	// FlashTickets and FlashAttempts size the flash sale.
	FlashTickets, FlashAttempts int
}

// Full is the benchmark of docs/performance.md.
var Full = Config{
	Buyers: 500, Sellers: 20, Levels: []int{1, 4, 16, 32, 64}, Step: 10 * time.Second,
	Sustained: 60 * time.Second, FlashTickets: 1000, FlashAttempts: 5000,
}

// Quick is a smoke run of every phase in about a minute.
var Quick = Config{
	Buyers: 20, Sellers: 4, Levels: []int{1, 8}, Step: 2 * time.Second,
	Sustained: 5 * time.Second, FlashTickets: 50, FlashAttempts: 200,
}

// Level is the order sweep at one concurrency.
type Level struct {
	Orders Result
	// LockP50 and LockP99 are the lag from an order's commit to its
	// ticket being locked; LocksMissing the orders whose lock never came.
	LockP50, LockP99 time.Duration
	LocksMissing     int
}

// Sustained is one attempt at a sustained order rate.
type Sustained struct {
	Rate   float64
	Orders Result
	// LockP50, LockP99, LocksMissing: as in Level.
	LockP50, LockP99 time.Duration
	LocksMissing     int
	// MaxBacklog is the largest backlog seen (queued messages plus
	// aggregates with unpublished events); Drained is how long the backlog
	// took to reach zero after the last order.
	MaxBacklog, LastBacklog Backlog
	Drained                 time.Duration
	// CPU is what each part of the machine used from the first order until
	// the backlog drained (nil if /proc could not be read).
	CPU CPU
	// KeptUp: every order's ticket was locked within 1 s at p99, none
	// missing, and the backlog drained within 10 s of the end.
	KeptUp bool
}

// Report is everything one benchmark run measured.
type Report struct {
	Config  Config
	Started time.Time
	Machine string
	// Preparation.
	SignUps, TicketCreations Result
	// Ceilings of this machine.
	RawInserts                        []Result
	Trivial, Whoami, KetoChecks, Keto Result
	// The project.
	SignIns              Result
	Levels               []Level
	ReadYourWrites       [2]int // found, placed
	List, Search         Result
	SustainedRuns        []Sustained
	HalfLoad             Result
	Flash                FlashSale
	Duration             time.Duration
	SustainedOrdersPerS  float64
	RawInsertsPerS       float64
	HalfLoadP99          time.Duration
	SustainedRatioToRaw  float64
	SustainedRatioToKeto float64
}

// Run measures everything, logging progress to log.
func Run(ctx context.Context, t *Target, cfg Config, log io.Writer) (*Report, error) {
	r := &Report{Config: cfg, Started: time.Now().UTC(), Machine: Machine()}
	say := func(format string, args ...any) {
		fmt.Fprintf(log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	say("machine: %s", r.Machine)

	say("preparing %d sellers and %d buyers (sign-up is bcrypt bound)…", cfg.Sellers, cfg.Buyers)
	t0 := time.Now()
	users, err := t.API.SignUpMany(ctx, "bench", cfg.Sellers+cfg.Buyers, 8)
	if err != nil {
		return nil, fmt.Errorf("sign-ups: %w", err)
	}
	r.SignUps = Result{Name: "sign-ups ×8", Workers: 8, Elapsed: time.Since(t0), OK: len(users), Status: map[int]int{201: len(users)}}
	sellers, buyers := users[:cfg.Sellers], users[cfg.Sellers:]
	say("%s", line(r.SignUps))

	say("ceilings…")
	for _, n := range cfg.Levels {
		r.RawInserts = append(r.RawInserts, t.RawInserts(ctx, n, cfg.Step/2))
		say("%s", line(r.RawInserts[len(r.RawInserts)-1]))
		r.RawInsertsPerS = max(r.RawInsertsPerS, r.RawInserts[len(r.RawInserts)-1].PerSecond())
	}
	r.Trivial = t.Trivial(ctx, 64, cfg.Step/2)
	say("%s", line(r.Trivial))
	r.Whoami = t.Whoami(ctx, buyers, 32, cfg.Step/2)
	say("%s", line(r.Whoami))

	// Enough tickets that the fastest sweep seen (about 90 orders/s for
	// five 10 s levels) leaves some available: a sweep that runs out cuts
	// its last level short, and the list below would page an empty list.
	// The read-your-writes check has tickets of its own.
	sweepTickets, rywTickets := 6000, 200
	if cfg.Step < 5*time.Second {
		sweepTickets, rywTickets = 300, 50
	}
	tickets, err := t.prepareTickets(ctx, "Sweep", sellers, sweepTickets+rywTickets, &r.TicketCreations)
	if err != nil {
		return nil, err
	}
	say("%s", line(r.TicketCreations))
	r.KetoChecks = t.KetoChecks(ctx, buyers, tickets, 32, cfg.Step/2)
	say("%s", line(r.KetoChecks))
	r.Keto = t.KetoWrites(ctx, buyers, 16, cfg.Step/2)
	say("%s", line(r.Keto))

	r.SignIns = t.SignIns(ctx, users, 8, cfg.Step)
	say("%s", line(r.SignIns))

	locks, err := t.WatchLocks(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch ticket locks: %w", err)
	}
	defer locks.Close()
	pool := NewPool(tickets[rywTickets:])
	for _, n := range cfg.Levels {
		placed := &Placed{}
		lv := Level{Orders: ClosedLoop(ctx, fmt.Sprintf("order creations ×%d", n), n, cfg.Step, 0, t.OrderOp(pool, buyers, placed))}
		lv.LockP50, lv.LockP99, lv.LocksMissing = lockLag(locks, placed.Orders())
		r.Levels = append(r.Levels, lv)
		say("%s; locked p50 %s p99 %s, %d never", line(lv.Orders), ms(lv.LockP50), ms(lv.LockP99), lv.LocksMissing)
		if err := t.waitDrained(ctx, 30*time.Second); err != nil {
			say("backlog after ×%d: %v", n, err)
		}
	}
	found, placed, err := t.ReadYourWrites(ctx, NewPool(tickets[:rywTickets]), buyers, rywTickets)
	if err != nil {
		return nil, fmt.Errorf("read-your-writes: %w", err)
	}
	r.ReadYourWrites = [2]int{found, placed}
	say("read-your-writes: %d of %d orders read back at once", found, placed)
	r.List = t.List(ctx, "", 32, cfg.Step/2)
	say("%s", line(r.List))
	r.Search = t.List(ctx, "Sweep+7", 32, cfg.Step/2)
	say("%s", line(r.Search))

	if err := t.sustain(ctx, r, sellers, buyers, locks, say); err != nil {
		return nil, err
	}

	say("flash sale: %d tickets, %d buyers, %d attempts…", cfg.FlashTickets, cfg.Buyers, cfg.FlashAttempts)
	var created Result
	flash, err := t.prepareTickets(ctx, "Flash", sellers, cfg.FlashTickets, &created)
	if err != nil {
		return nil, err
	}
	r.Flash, err = t.RunFlashSale(ctx, flash, buyers, cfg.FlashAttempts)
	if err != nil {
		return nil, fmt.Errorf("flash sale: %w", err)
	}
	f := r.Flash
	say("flash sale: orders %s; payments %s; webhooks %s; sold out in %s, complete in %s; %d complete, %d oversold, %d unsold, %d 5xx",
		f.Orders.StatusLine(), f.Payments.StatusLine(), f.Webhooks.StatusLine(), f.SoldOut.Round(time.Millisecond),
		f.Completed.Round(time.Millisecond), f.Complete, f.Oversold, f.Unsold, f.ServerErrors())
	r.Duration = time.Since(r.Started)
	return r, nil
}

// prepareTickets lists n tickets and waits until they can be ordered.
func (t *Target) prepareTickets(ctx context.Context, title string, sellers []User, n int, res *Result) ([]Ticket, error) {
	before, err := t.Mongo.Database("orders").Collection("tickets").EstimatedDocumentCount(ctx)
	if err != nil {
		return nil, err
	}
	tickets, r := t.CreateTickets(ctx, title, sellers, n, 32)
	*res = r
	if len(tickets) != n {
		return nil, fmt.Errorf("listing %d tickets: %s (first error: %v)", n, r.StatusLine(), r.FirstErr)
	}
	if err := t.WaitOrderable(ctx, before+int64(n), 2*time.Minute); err != nil {
		return nil, err
	}
	return tickets, nil
}

// sustain looks for the order rate the pipeline keeps up with for the
// whole window: it starts at 80% of the sweep's best rate and steps down
// by a quarter until a run keeps up; a run that kept up below one that did
// not is followed by one halfway between (four tries at most). Then it
// measures order latency at half the best rate that kept up.
func (t *Target) sustain(ctx context.Context, r *Report, sellers, buyers []User, locks *Locks, say func(string, ...any)) error {
	best := 0.0
	for _, lv := range r.Levels {
		best = max(best, lv.Orders.PerSecond())
	}
	rate, failed := max(0.8*best, 5), 0.0
tries:
	for try := 0; try < 4; try++ {
		var created Result
		tickets, err := t.prepareTickets(ctx, fmt.Sprintf("Sustained %d", try), sellers, int(rate*r.Config.Sustained.Seconds()*1.05)+10, &created)
		if err != nil {
			return err
		}
		say("sustained: %.0f orders/s for %s…", rate, r.Config.Sustained)
		s := t.sustainAt(ctx, rate, r.Config.Sustained, NewPool(tickets), buyers, locks)
		r.SustainedRuns = append(r.SustainedRuns, s)
		say("%s; locked p50 %s p99 %s, %d never; backlog max %d, drained in %s; kept up: %v",
			line(s.Orders), ms(s.LockP50), ms(s.LockP99), s.LocksMissing, s.MaxBacklog.Total(), s.Drained.Round(time.Millisecond), s.KeptUp)
		switch {
		case s.KeptUp:
			r.SustainedOrdersPerS = max(r.SustainedOrdersPerS, s.Orders.PerSecond())
			if failed == 0 || failed-rate < 0.15*rate {
				break tries // nothing above it left to narrow down
			}
			rate = (rate + failed) / 2
		case r.SustainedOrdersPerS > 0:
			break tries // halfway up did not keep up: the run below stands
		default:
			failed = rate
			rate *= 0.75
		}
	}
	if r.SustainedOrdersPerS == 0 {
		return nil
	}
	half := r.SustainedOrdersPerS / 2
	var created Result
	tickets, err := t.prepareTickets(ctx, "Half load", sellers, int(half*r.Config.Step.Seconds()*2*1.05)+10, &created)
	if err != nil {
		return err
	}
	r.HalfLoad = Paced(ctx, fmt.Sprintf("order creations at %.0f/s", half), half, 2*r.Config.Step, 128, t.OrderOp(NewPool(tickets), buyers, &Placed{}))
	r.HalfLoadP99 = r.HalfLoad.P99
	say("half load: %s", line(r.HalfLoad))
	r.SustainedRatioToRaw = r.SustainedOrdersPerS / r.RawInsertsPerS
	r.SustainedRatioToKeto = r.SustainedOrdersPerS / r.Keto.PerSecond()
	return t.waitDrained(ctx, 30*time.Second)
}

// sustainAt places orders at rate for d while sampling the backlog.
func (t *Target) sustainAt(ctx context.Context, rate float64, d time.Duration, pool *Pool, buyers []User, locks *Locks) Sustained {
	s := Sustained{Rate: rate}
	placed := &Placed{}
	sampling, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sampling.Done():
				return
			case <-tick.C:
			}
			if b, err := t.Backlog(ctx); err == nil {
				if b.Total() > s.MaxBacklog.Total() {
					s.MaxBacklog = b
				}
				s.LastBacklog = b
			}
		}
	}()
	cpuBefore, cpuErr := SampleCPU(t.StateDir)
	s.Orders = Paced(ctx, fmt.Sprintf("sustained orders at %.0f/s", rate), rate, d, 256, t.OrderOp(pool, buyers, placed))
	stop()
	<-done
	t0 := time.Now()
	drainErr := t.waitDrained(ctx, 30*time.Second)
	s.Drained = time.Since(t0)
	if cpuAfter, err := SampleCPU(t.StateDir); err == nil && cpuErr == nil {
		s.CPU = cpuAfter.Since(cpuBefore)
	}
	s.LockP50, s.LockP99, s.LocksMissing = lockLag(locks, placed.Orders())
	s.KeptUp = drainErr == nil && s.Drained <= 10*time.Second && s.LocksMissing == 0 && s.LockP99 <= time.Second
	return s
}

// waitDrained waits until no queue holds a message and no outbox an event.
func (t *Target) waitDrained(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		b, err := t.Backlog(ctx)
		if err == nil && b.Total() == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not drained after %s: %+v (%v)", within, b, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// lockLag is the p50 and p99 of the orders' lock lag.
func lockLag(locks *Locks, orders []Order) (p50, p99 time.Duration, missing int) {
	lags, missing := locks.Lag(orders, 15*time.Second)
	p50, _, p99, _ = percentiles(lags)
	return p50, p99, missing
}

// line renders a result on one log line.
func line(r Result) string {
	s := fmt.Sprintf("%-40s %8.1f/s", r.Name, r.PerSecond())
	if r.P99 > 0 {
		s += fmt.Sprintf("  p50 %s p95 %s p99 %s", ms(r.P50), ms(r.P95), ms(r.P99))
	}
	s += "  [" + r.StatusLine() + "]"
	if r.FirstErr != nil {
		s += fmt.Sprintf(" first error: %v", r.FirstErr)
	}
	return s
}

// ms renders d in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
