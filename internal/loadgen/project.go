package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// SignIns measures sign-in through nginx, auth and Kratos (bcrypt bound).
func (t *Target) SignIns(ctx context.Context, users []User, workers int, d time.Duration) Result {
	return ClosedLoop(ctx, fmt.Sprintf("sign-ins ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		u := users[i%len(users)]
		return t.API.Do(ctx, "POST", "/api/users/sign-in", "", map[string]string{"email": u.Email, "password": u.Password}, nil)
	})
}

// CreateTickets lists n tickets, spread over the sellers, workers at a time,
// and returns them with the measured run.
func (t *Target) CreateTickets(ctx context.Context, title string, sellers []User, n, workers int) ([]Ticket, Result) {
	tickets := make([]Ticket, n)
	res := ClosedLoop(ctx, fmt.Sprintf("ticket creations ×%d", workers), workers, time.Hour, n, func(ctx context.Context, w, i int) (int, error) {
		var tk Ticket
		status, err := t.API.Do(ctx, "POST", "/api/tickets", sellers[i%len(sellers)].Token,
			map[string]any{"title": fmt.Sprintf("%s %d", title, i), "price": 1000 + int64(i%50)*100}, &tk)
		tickets[i] = tk
		return status, err
	})
	out := tickets[:0]
	for _, tk := range tickets {
		if tk.ID != "" {
			out = append(out, tk)
		}
	}
	return out, res
}

// WaitOrderable waits until the orders service's replica holds want
// tickets in all (its copy is how it learns that a ticket can be ordered).
func (t *Target) WaitOrderable(ctx context.Context, want int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		n, err := t.Mongo.Database("orders").Collection("tickets").EstimatedDocumentCount(ctx)
		if err == nil && n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s the orders service knows %d of %d tickets (%v)", within, n, want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Pool hands out tickets nobody ordered yet, once each.
type Pool struct {
	tickets []Ticket
	next    atomic.Int64
}

// NewPool returns a pool of the tickets.
func NewPool(tickets []Ticket) *Pool { return &Pool{tickets: tickets} }

// Take returns the next unordered ticket, false when none is left.
func (p *Pool) Take() (Ticket, bool) {
	i := int(p.next.Add(1)) - 1
	if i >= len(p.tickets) {
		return Ticket{}, false
	}
	return p.tickets[i], true
}

// Left counts the tickets not handed out yet.
func (p *Pool) Left() int { return max(len(p.tickets)-int(p.next.Load()), 0) }

// Placed collects the orders a run created.
type Placed struct {
	mu     sync.Mutex
	orders []Order
}

// Orders returns the orders collected so far.
func (p *Placed) Orders() []Order {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Order(nil), p.orders...)
}

// errPoolEmpty ends a run that ran out of tickets: the run is then shorter
// than asked, and the report says so through its elapsed time.
var errPoolEmpty = fmt.Errorf("no ticket left to order")

// OrderOp is one buyer ordering the next free ticket, the whole purchase
// path's first step: session, permission check, database, outbox.
func (t *Target) OrderOp(pool *Pool, buyers []User, placed *Placed) Op {
	return func(ctx context.Context, w, i int) (int, error) {
		tk, ok := pool.Take()
		if !ok {
			return 0, errPoolEmpty
		}
		var o Order
		status, err := t.API.Do(ctx, "POST", "/api/orders", buyers[i%len(buyers)].Token, map[string]string{"ticketId": tk.ID}, &o)
		if status == http.StatusCreated && err == nil {
			placed.mu.Lock()
			placed.orders = append(placed.orders, o)
			placed.mu.Unlock()
		}
		return status, err
	}
}

// ReadYourWrites places n orders one after another and reads each back at
// once, as the buyer who was just given it; it returns how many reads
// found the order.
func (t *Target) ReadYourWrites(ctx context.Context, pool *Pool, buyers []User, n int) (found, placed int, err error) {
	for i := range n {
		tk, ok := pool.Take()
		if !ok {
			return found, placed, errPoolEmpty
		}
		b := buyers[i%len(buyers)]
		var o Order
		status, err := t.API.Do(ctx, "POST", "/api/orders", b.Token, map[string]string{"ticketId": tk.ID}, &o)
		if err != nil {
			return found, placed, err
		}
		if status != http.StatusCreated {
			continue
		}
		placed++
		var got Order
		if status, err := t.API.Do(ctx, "GET", "/api/orders/"+o.ID, b.Token, nil, &got); err == nil && status == http.StatusOK && got.ID == o.ID {
			found++
		}
	}
	return found, placed, nil
}

// List measures GET /api/tickets pages of 20, the newest first; with a
// title it measures the title search.
func (t *Target) List(ctx context.Context, title string, workers int, d time.Duration) Result {
	path, name := "/api/tickets?limit=20", fmt.Sprintf("ticket list ×%d", workers)
	if title != "" {
		path, name = "/api/tickets?limit=20&title="+title, fmt.Sprintf("ticket search ×%d", workers)
	}
	return ClosedLoop(ctx, name, workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		return t.API.Do(ctx, "GET", path, "", nil, nil)
	})
}
