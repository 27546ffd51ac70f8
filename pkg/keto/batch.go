package keto

import (
	"context"
	"sync"
	"time"
)

// batcher joins the tuple writes of concurrent callers into fewer Keto
// calls (group commit): up to maxInFlight calls run at once, and whatever
// callers ask for while all of them are busy leaves together in the next
// call. A lone caller never waits for company. Every caller learns the
// outcome of the call that carried its tuples; none returns before its
// tuples are written, so no permission is deferred.
type batcher struct {
	send        func(context.Context, []Tuple) error
	maxInFlight int
	timeout     time.Duration

	mu       sync.Mutex
	free     *sync.Cond
	inFlight int
	next     *tupleBatch
}

type tupleBatch struct {
	tuples []Tuple
	done   chan struct{}
	err    error
}

func newBatcher(send func(context.Context, []Tuple) error, maxInFlight int, timeout time.Duration) *batcher {
	b := &batcher{send: send, maxInFlight: maxInFlight, timeout: timeout}
	b.free = sync.NewCond(&b.mu)
	return b
}

// write writes tuples, alone or with others', and returns the call's error
// (or ctx's, when the caller stops waiting: the tuples may still be
// written, which is harmless, as inserting a tuple twice is).
func (b *batcher) write(ctx context.Context, tuples []Tuple) error {
	b.mu.Lock()
	batch, leader := b.next, false
	if batch == nil {
		batch, leader = &tupleBatch{done: make(chan struct{})}, true
		b.next = batch
	}
	batch.tuples = append(batch.tuples, tuples...)
	if leader {
		// The opener sends the batch once a call slot is free; callers that
		// arrive meanwhile join it.
		for b.inFlight >= b.maxInFlight {
			b.free.Wait()
		}
		b.inFlight++
		b.next = nil
		go b.flush(batch)
	}
	b.mu.Unlock()
	select {
	case <-batch.done:
		return batch.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush makes the call for batch, under a deadline of its own: the callers
// it carries may have deadlines of their own, but none owns the call.
func (b *batcher) flush(batch *tupleBatch) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	batch.err = b.send(ctx, batch.tuples)
	cancel()
	close(batch.done)
	b.mu.Lock()
	b.inFlight--
	b.free.Signal()
	b.mu.Unlock()
}
