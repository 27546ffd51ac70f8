package adapters_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/expiration/adapters"
	"github.com/ticketing/ticketing/expiration/domain"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/testenv"
)

func newOrderID() string { return primitive.NewObjectID().Hex() }

// scheduler returns a scheduler on the test stack's Redis, in database 12:
// the running expiration service works on database 0 and would otherwise
// take the tests' tasks. Each test uses fresh order ids.
func scheduler(t *testing.T) (*adapters.AsynqScheduler, *asynq.Inspector, asynq.RedisClientOpt) {
	t.Helper()
	opt := asynq.RedisClientOpt{Addr: testenv.Require(t, "TEST_REDIS_ADDR"), DB: 12}
	s := adapters.NewAsynqScheduler(opt)
	in := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = s.Close(); _ = in.Close() })
	return s, in, opt
}

func TestAsynqScheduler_SchedulesOncePerOrder(t *testing.T) {
	t.Parallel()
	s, in, _ := scheduler(t)
	ctx := context.Background()
	id := newOrderID()
	timeout, _ := domain.NewTimeout(id, time.Now().Add(time.Hour))
	var wg sync.WaitGroup
	var mu sync.Mutex
	scheduled := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Schedule(ctx, timeout)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				scheduled++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if scheduled != 1 {
		t.Fatalf("10 concurrent schedules of one order: %d scheduled, want 1", scheduled)
	}
	info, err := in.GetTaskInfo(adapters.Queue, id)
	if err != nil || info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(timeout.ExpiresAt().Truncate(time.Second)) {
		t.Fatalf("task %s: %+v, %v; want scheduled at %s", id, info, err, timeout.ExpiresAt())
	}
	if err := s.Unschedule(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := in.GetTaskInfo(adapters.Queue, id); err == nil {
		t.Fatal("the task is still there after Unschedule")
	}
	if err := s.Unschedule(ctx, id); err != nil {
		t.Fatalf("unscheduling twice: %v", err)
	}
}

func TestAsynqScheduler_TaskFiresAtItsTime(t *testing.T) {
	t.Parallel()
	s, _, opt := scheduler(t)
	id := newOrderID()
	timeout, _ := domain.NewTimeout(id, time.Now().Add(2*time.Second))
	if _, err := s.Schedule(context.Background(), timeout); err != nil {
		t.Fatal(err)
	}
	fired := make(chan time.Time, 10)
	srv := asynq.NewServer(opt, asynq.Config{Queues: map[string]int{adapters.Queue: 1}, Concurrency: 2,
		Logger: quiet{}, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(adapters.TaskExpireOrder, func(_ context.Context, task *asynq.Task) error {
		if bytes.Contains(task.Payload(), []byte(id)) {
			fired <- time.Now()
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	select {
	case at := <-fired:
		if at.Before(timeout.ExpiresAt().Add(-time.Second)) {
			t.Fatalf("fired at %s, before its time %s", at, timeout.ExpiresAt())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the timeout never fired")
	}
}

type quiet struct{}

func (quiet) Debug(...any) {}
func (quiet) Info(...any)  {}
func (quiet) Warn(...any)  {}
func (quiet) Error(...any) {}
func (quiet) Fatal(...any) {}

// wakes records what the store tells the relay.
type wakes struct {
	scans    int
	handoffs []events.Pending
}

func (w *wakes) Wake()                    { w.scans++ }
func (w *wakes) Handoff(p events.Pending) { w.handoffs = append(w.handoffs, p) }

func TestMongoExpirations_RecordsOnceWithItsEvent(t *testing.T) {
	t.Parallel()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.Require(t, "TEST_MONGO_URI")))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(fmt.Sprintf("expiration_test_%d", time.Now().UnixNano()))
	t.Cleanup(func() { _ = db.Drop(context.Background()); _ = client.Disconnect(context.Background()) })
	ctx := context.Background()
	w := &wakes{}
	store, err := adapters.NewMongoExpirations(ctx, db, w)
	if err != nil {
		t.Fatal(err)
	}
	id := newOrderID()
	for i, want := range []bool{true, false} {
		recorded, err := store.Record(ctx, id, time.Now(), "corr-9")
		if err != nil || recorded != want {
			t.Fatalf("record #%d: %v, %v; want %v", i+1, recorded, err, want)
		}
	}
	pending, err := store.Pending(ctx, 10)
	if err != nil || len(pending) != 1 || len(pending[0].Events) != 1 {
		t.Fatalf("pending = %+v, %v; want one expiry with one event", pending, err)
	}
	e := pending[0].Events[0]
	data, err := events.DecodeData[events.Expiration](e)
	if err != nil || e.Type != events.ExpirationCompleted || data.OrderID != id || e.CorrelationID != "corr-9" {
		t.Fatalf("stored event %+v (%+v, %v)", e, data, err)
	}
	if w.scans != 0 || len(w.handoffs) != 1 || w.handoffs[0].AggregateID != id ||
		len(w.handoffs[0].Events) != 1 || w.handoffs[0].Events[0].ID != e.ID {
		t.Fatalf("relay told %d scans and handoffs %+v; want the one event handed off", w.scans, w.handoffs)
	}
	if n, _ := db.Collection("expirations").CountDocuments(ctx, bson.M{"_id": id}); n != 1 {
		t.Fatalf("%d expiry documents, want 1", n)
	}
	// Once published, the relay marks the handed-off event.
	if err := store.MarkPublished(ctx, id, []string{e.ID}); err != nil {
		t.Fatal(err)
	}
	if pending, err := store.Pending(ctx, 10); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the handoff = %+v, %v; want none", pending, err)
	}
}

func TestAsynqScheduler_StateOfAnEmptyRedis(t *testing.T) {
	t.Parallel()
	// A fresh Redis database (the test stack's Redis, database 15) has no
	// queue yet: the state is zero, not an error, so the service is ready.
	opt := asynq.RedisClientOpt{Addr: testenv.Require(t, "TEST_REDIS_ADDR"), DB: 15}
	s := adapters.NewAsynqScheduler(opt)
	defer s.Close()
	in := asynq.NewInspector(opt)
	defer in.Close()
	if qs, _ := in.Queues(); len(qs) > 0 {
		for _, q := range qs {
			_ = in.DeleteQueue(q, true)
		}
	}
	state, err := s.State(context.Background())
	if err != nil || state != (adapters.QueueState{}) {
		t.Fatalf("State = %+v, %v; want zero and no error", state, err)
	}
}
