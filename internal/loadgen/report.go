package loadgen

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes this machine in one line: CPU, cores, memory, kernel,
// Go.
func Machine() string {
	model, memory := "unknown CPU", "unknown memory"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
				memory = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores, %s, %s, %s, everything (stack and load generator) on this one machine",
		model, runtime.NumCPU(), memory, kernel, runtime.Version())
}

// Markers delimit the part of docs/performance.md the load generator
// rewrites; the rest of the file (the analysis) is written by people.
const (
	BeginMarker = "<!-- loadgen:begin (written by `make bench`; edits here are overwritten) -->"
	EndMarker   = "<!-- loadgen:end -->"
)

// Headline renders the figures compared from run to run, one per line.
func (r *Report) Headline() string {
	return fmt.Sprintf("sustained orders/s: %.0f\nraw inserts/s: %.0f\nratio: %.2f\norder p99 ms at half load: %.0f\nflash sale oversold: %d\nflash sale 5xx: %d\n",
		r.SustainedOrdersPerS, r.RawInsertsPerS, r.SustainedRatioToRaw, float64(r.HalfLoadP99)/float64(time.Millisecond),
		r.Flash.Oversold, r.Flash.ServerErrors())
}

// Markdown renders the measured part of docs/performance.md; chart is the
// file name of the chart next to it.
func (r *Report) Markdown(chart string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(what string, res Result, note string) {
		lat := "–"
		if res.P99 > 0 {
			lat = fmt.Sprintf("%s / %s / %s", ms(res.P50), ms(res.P95), ms(res.P99))
		}
		p("| %s | %d | %.0f | %s | %s | %s |\n", what, res.Workers, res.PerSecond(), lat, res.StatusLine(), note)
	}
	p("%s\n\n", BeginMarker)
	p("Run of %s (%s in all, `%s`).\n\n", r.Started.Format("2006-01-02 15:04 MST"), r.Duration.Round(time.Second), r.Config.name())
	p("**Machine:** %s.\n\n", r.Machine)
	p("```text\n%s```\n\n", r.Headline())

	p("### Ceilings of this machine\n\n")
	p("| what | concurrency | per second | p50 / p95 / p99 | answers | note |\n|---|---:|---:|---|---|---|\n")
	for _, res := range r.RawInserts {
		row("raw single-document inserts (FerretDB, mongo-driver)", res, "")
	}
	row("nginx → trivial handler (`GET /api/tickets/healthz`)", r.Trivial, "")
	row("Kratos whoami (direct)", r.Whoami, "")
	row("Keto check `Ticket#order` (direct)", r.KetoChecks, "")
	row("Keto tuple write, 3 tuples a call (direct)", r.Keto, "an order's tuples")
	p("\n### The project, through nginx\n\n")
	p("| what | concurrency | per second | p50 / p95 / p99 | answers | lock lag p50 / p99 |\n|---|---:|---:|---|---|---|\n")
	row("sign-ups (preparation, bcrypt cost 12)", r.SignUps, "")
	row("sign-ins (bcrypt cost 12)", r.SignIns, "")
	row("ticket creations", r.TicketCreations, "")
	for _, lv := range r.Levels {
		row("order creations", lv.Orders, lockNote(lv.LockP50, lv.LockP99, lv.LocksMissing))
	}
	row("ticket list, first page of 20", r.List, "")
	row("ticket title search, page of 20", r.Search, "")
	p("\nRead-your-writes: %d of %d orders read back by their buyer right after the 201.\n\n", r.ReadYourWrites[0], r.ReadYourWrites[1])
	p("![Order creations per second and p99 latency against concurrency](%s)\n\n", chart)

	p("### Sustained orders\n\n")
	p("Orders arrive at a fixed rate (an open loop: a slow system meets the same arrivals) for %s; a run counts only if it kept up: every order's ticket locked within 1 s at p99, none missing, and the queues and outboxes drained within 10 s of the last order. The first try is at 80%% of the sweep's best rate, each next one a quarter lower; after a run that kept up below one that did not, one more halfway between. The figure is the best run that kept up.\n\n", r.Config.Sustained)
	p("| target rate | orders/s | p50 / p95 / p99 | answers | lock lag p50 / p99 | largest backlog | drained in | kept up |\n|---:|---:|---|---|---|---|---:|---|\n")
	for _, s := range r.SustainedRuns {
		p("| %.0f | %.1f | %s / %s / %s | %s | %s | %s | %s | %v |\n", s.Rate, s.Orders.PerSecond(), ms(s.Orders.P50), ms(s.Orders.P95), ms(s.Orders.P99),
			s.Orders.StatusLine(), lockNote(s.LockP50, s.LockP99, s.LocksMissing), backlogNote(s.MaxBacklog), s.Drained.Round(100*time.Millisecond), s.KeptUp)
	}
	if r.HalfLoad.OK > 0 {
		p("\nAt half the sustained rate (%s): p50 %s, p95 %s, p99 %s, answers %s.\n", r.HalfLoad.Name, ms(r.HalfLoad.P50), ms(r.HalfLoad.P95), ms(r.HalfLoad.P99), r.HalfLoad.StatusLine())
	}
	p("\nRatios of the sustained rate: to raw inserts %.2f; to Keto tuple writes %.2f; to Keto checks %.2f; to Kratos whoami %.2f.\n\n",
		r.SustainedRatioToRaw, r.SustainedRatioToKeto, ratio(r.SustainedOrdersPerS, r.KetoChecks.PerSecond()), ratio(r.SustainedOrdersPerS, r.Whoami.PerSecond()))
	if s, ok := r.kept(); ok && s.CPU != nil {
		orders := max(s.Orders.OK, 1)
		wall := s.Orders.Elapsed + s.Drained
		p("Where the CPU went in the sustained run that kept up (%d orders, %s from the first order until the backlog drained; %.2f of the 2 cores busy): CPU per order, by process and its children.\n\n",
			s.Orders.OK, wall.Round(time.Second), s.CPU.Total().Seconds()/max(wall.Seconds(), 1))
		p("| part | CPU per order | share |\n|---|---:|---:|\n")
		for _, name := range s.CPU.Largest() {
			if d := s.CPU[name]; d >= 10*time.Millisecond {
				p("| %s | %.1f ms | %.0f%% |\n", name, float64(d)/float64(time.Millisecond)/float64(orders), 100*float64(d)/float64(s.CPU.Total()))
			}
		}
		p("| all | %.1f ms | 100%% |\n\n", float64(s.CPU.Total())/float64(time.Millisecond)/float64(orders))
	}

	f := r.Flash
	p("### Flash sale\n\n")
	p("%d tickets, %d buyers signed in before the sale opens, %d purchase attempts (each ticket wanted by %d buyers; each buyer makes its attempts one after another, all buyers at once). A buyer whose order is created pays at once: `POST /api/payments`, then Stripe's signed `payment_intent.succeeded`.\n\n",
		f.Tickets, f.Buyers, f.Attempts, f.Attempts/max(f.Tickets, 1))
	p("- orders: %s (p50 %s, p99 %s)\n", f.Orders.StatusLine(), ms(f.Orders.P50), ms(f.Orders.P99))
	p("- payments: %s; webhooks: %s\n", f.Payments.StatusLine(), f.Webhooks.StatusLine())
	p("- sold out (last 201) after %s; every order complete after %s\n", f.SoldOut.Round(time.Millisecond), f.Completed.Round(time.Millisecond))
	p("- reconciled in the databases: %d complete orders, %d succeeded payments, %d tickets sold twice, %d unsold, %d answers 5xx\n\n",
		f.Complete, f.PaymentsSucceeded, f.Oversold, f.Unsold, f.ServerErrors())
	p("%s\n", EndMarker)
	return b.String()
}

// kept is the fastest sustained run that kept up, if one did.
func (r *Report) kept() (Sustained, bool) {
	var best Sustained
	for _, s := range r.SustainedRuns {
		if s.KeptUp && s.Orders.PerSecond() > best.Orders.PerSecond() {
			best = s
		}
	}
	return best, best.KeptUp
}

func (c Config) name() string {
	if c.Buyers == Quick.Buyers {
		return "loadgen -quick"
	}
	return "make bench"
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func lockNote(p50, p99 time.Duration, missing int) string {
	s := ms(p50) + " / " + ms(p99)
	if missing > 0 {
		s += fmt.Sprintf(" (%d never)", missing)
	}
	return s
}

func backlogNote(b Backlog) string {
	if b.Total() == 0 {
		return "0"
	}
	var parts []string
	for _, q := range serviceQueues {
		if b.Queues[q] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", q, b.Queues[q]))
		}
	}
	for _, db := range []string{"orders", "tickets", "payments"} {
		if b.Outbox[db] > 0 {
			parts = append(parts, fmt.Sprintf("%s outbox %d", db, b.Outbox[db]))
		}
	}
	return fmt.Sprintf("%d (%s)", b.Total(), strings.Join(parts, ", "))
}

// Chart draws order creations per second (bars, left axis) and p99
// latency (line, right axis) against concurrency, as SVG.
func (r *Report) Chart() string {
	const w, h, left, right, top, bottom = 640, 320, 60, 60, 30, 50
	n := len(r.Levels)
	maxRate, maxP99 := 1.0, 1.0
	for _, lv := range r.Levels {
		maxRate = max(maxRate, lv.Orders.PerSecond())
		maxP99 = max(maxP99, float64(lv.Orders.P99)/float64(time.Millisecond))
	}
	maxRate, maxP99 = niceCeil(maxRate), niceCeil(maxP99)
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	slot := plotW / float64(max(n, 1))
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="18" font-size="14">Order creations through nginx: throughput (bars) and p99 latency (line)</text>`+"\n", left)
	for i := 0; i <= 4; i++ {
		y := float64(top) + plotH*float64(4-i)/4
		p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, w-right, y, y)
		p(`<text x="%d" y="%.1f" text-anchor="end">%.0f/s</text>`+"\n", left-6, y+4, maxRate*float64(i)/4)
		p(`<text x="%d" y="%.1f" fill="#c0392b">%.0f ms</text>`+"\n", w-right+6, y+4, maxP99*float64(i)/4)
	}
	var pts []string
	for i, lv := range r.Levels {
		x := float64(left) + slot*float64(i)
		bh := plotH * lv.Orders.PerSecond() / maxRate
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2e86c1"/>`+"\n", x+slot*0.2, float64(top)+plotH-bh, slot*0.6, bh)
		p(`<text x="%.1f" y="%d" text-anchor="middle">×%d</text>`+"\n", x+slot/2, h-bottom+16, lv.Orders.Workers)
		py := float64(top) + plotH - plotH*(float64(lv.Orders.P99)/float64(time.Millisecond))/maxP99
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+slot/2, py))
	}
	p(`<polyline points="%s" fill="none" stroke="#c0392b" stroke-width="2"/>`+"\n", strings.Join(pts, " "))
	for _, pt := range pts {
		xy := strings.Split(pt, ",")
		p(`<circle cx="%s" cy="%s" r="3" fill="#c0392b"/>`+"\n", xy[0], xy[1])
	}
	p(`<text x="%.1f" y="%d" text-anchor="middle">concurrent clients</text>`+"\n", float64(left)+plotW/2, h-12)
	p("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= v {
			return m * pow
		}
	}
	return 10 * pow
}

// Splice puts the measured section into doc between the markers, or
// appends it when doc has none yet.
func Splice(doc, section string) string {
	i, j := strings.Index(doc, BeginMarker), strings.Index(doc, EndMarker)
	if i < 0 || j < i {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	return doc[:i] + strings.TrimRight(section, "\n") + doc[j+len(EndMarker):]
}
