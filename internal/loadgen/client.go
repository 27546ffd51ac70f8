package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Client calls the stack's public API through nginx with one pool of
// keep-alive connections, as a crowd of browsers behind one address would.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the stack at base (nginx's URL).
func NewClient(base string) *Client {
	return &Client{base: base, http: newHTTPClient()}
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     60 * time.Second,
		},
	}
}

// Do sends a JSON request with the session token (if any) and decodes a
// 2xx answer into out (if not nil). It returns the status, and an error
// only when no answer came or a 2xx answer could not be decoded.
func (c *Client) Do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding %s: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// User is a signed-up account with a live session.
type User struct {
	ID, Email, Password, Token string
}

// Password of every generated account.
const Password = "load-generator-password-42"

var userSeq atomic.Int64

// SignUp registers a fresh account named after prefix.
func (c *Client) SignUp(ctx context.Context, prefix string) (User, error) {
	u := User{Email: fmt.Sprintf("%s-%d-%d@loadgen.example.com", prefix, time.Now().UnixNano(), userSeq.Add(1)), Password: Password}
	var out struct {
		User  struct{ ID string }
		Token string
	}
	status, err := c.Do(ctx, "POST", "/api/users/sign-up", "", map[string]string{"email": u.Email, "password": u.Password}, &out)
	if err != nil {
		return User{}, err
	}
	if status != http.StatusCreated || out.Token == "" {
		return User{}, fmt.Errorf("sign-up of %s answered %d", u.Email, status)
	}
	u.ID, u.Token = out.User.ID, out.Token
	return u, nil
}

// SignUpMany registers n accounts, workers at a time. Sign-ups are bcrypt
// bound, so this is where a benchmark spends its preparation time.
func (c *Client) SignUpMany(ctx context.Context, prefix string, n, workers int) ([]User, error) {
	users := make([]User, n)
	errs := make(chan error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				u, err := retry(ctx, func() (User, error) { return c.SignUp(ctx, prefix) })
				if err != nil {
					errs <- err
					return
				}
				users[i] = u
			}
		}()
	}
	wg.Wait()
	close(errs)
	return users, <-errs
}

// retry calls f until it succeeds, three times at most: a preparation step
// must not fail a whole benchmark over one slow answer.
func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		if v, err = f(); err == nil || ctx.Err() != nil {
			return v, err
		}
		time.Sleep(500 * time.Millisecond)
	}
	return v, err
}

// Ticket is the part of a ticket the load generator reads.
type Ticket struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Price   int64  `json:"price"`
	Status  string `json:"status"`
	OrderID string `json:"orderId"`
	UserID  string `json:"userId"`
	Version int64  `json:"version"`
}

// Order is the part of an order the load generator reads.
type Order struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
	Ticket    struct {
		ID       string `json:"id"`
		Price    int64  `json:"price"`
		Currency string `json:"currency"`
	} `json:"ticket"`
}

// Payment is the part of a payment the load generator reads.
type Payment struct {
	ID       string `json:"id"`
	OrderID  string `json:"orderId"`
	StripeID string `json:"stripeId"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}
