package docstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/testenv"
)

// counter is a minimal aggregate: a value, and an optional key that a
// sparse unique index keeps unique among the documents carrying it.
type counter struct {
	ID            string `bson:"_id"`
	Value         int    `bson:"value"`
	Key           string `bson:"key,omitempty"`
	docstore.Meta `bson:",inline"`
}

func (c *counter) DocMeta() *docstore.Meta { return &c.Meta }

func newCollection(t *testing.T) *docstore.Collection[counter, *counter] {
	t.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.Require(t, "TEST_MONGO_URI")))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(fmt.Sprintf("docstore_test_%d", time.Now().UnixNano()))
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	coll := db.Collection("counters")
	_, err = coll.Indexes().CreateOne(context.Background(), mongo.IndexModel{
		Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := docstore.New[counter](coll, nil)
	if err := c.EnsureOutboxIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func event(t *testing.T, v int64) events.Envelope {
	t.Helper()
	e, err := events.New(events.TicketUpdated, map[string]int64{"version": v}, events.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestUpdate_ConcurrentIncrementsAreNeverLost(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	if err := c.Insert(ctx, &counter{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	const writers = 40
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Update(ctx, "c1", func(d *counter) error {
				d.Value++
				d.Version++
				d.Record(event(t, d.Version))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := c.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != writers || got.Version != writers || len(got.Outbox) != writers || !got.OutboxPending {
		t.Fatalf("after %d concurrent updates: value %d, version %d, outbox %d, pending %v",
			writers, got.Value, got.Version, len(got.Outbox), got.OutboxPending)
	}
}

func TestUpdate_UnchangedSkipsTheWrite(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	_ = c.Insert(ctx, &counter{ID: "c1", Value: 5})
	_, err := c.Update(ctx, "c1", func(d *counter) error {
		d.Value = 99 // must not be written
		return docstore.ErrUnchanged
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "c1"); got.Value != 5 {
		t.Fatalf("ErrUnchanged wrote the document: value %d", got.Value)
	}
	if _, err := c.Update(ctx, "missing", func(*counter) error { return nil }); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("update of a missing document: %v, want ErrNotFound", err)
	}
}

func TestUpdate_StaleVersionFromAnotherProcessIsRetried(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	_ = c.Insert(ctx, &counter{ID: "c1"})
	calls := 0
	_, err := c.Update(ctx, "c1", func(d *counter) error {
		calls++
		if calls == 1 {
			// Another process (bypassing this one's lock) writes in between.
			_, err := c.Mongo().UpdateOne(ctx, bson.M{"_id": "c1"}, bson.M{"$set": bson.M{"value": 10, "version": 1, "rev": 1}})
			if err != nil {
				t.Fatal(err)
			}
		}
		d.Value++
		d.Version++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.Get(ctx, "c1")
	if calls != 2 || got.Value != 11 || got.Version != 2 {
		t.Fatalf("calls %d, value %d, version %d; want the update re-applied on the newer document (2, 11, 2)", calls, got.Value, got.Version)
	}
}

func TestInsert_SparseUniqueKeyAdmitsOneHolder(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	const contenders = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, dups := 0, 0
	for i := 0; i < contenders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Insert(ctx, &counter{ID: fmt.Sprintf("o%d", i), Key: "ticket-1"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, docstore.ErrDuplicate):
				dups++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dups != contenders-1 {
		t.Fatalf("wins %d, duplicates %d; want 1 and %d", wins, dups, contenders-1)
	}
	// Releasing the key (the field removed by a whole-document write)
	// lets a new holder in.
	var holder string
	cur, _ := c.Mongo().Find(ctx, bson.M{"key": "ticket-1"})
	var docs []counter
	_ = cur.All(ctx, &docs)
	if len(docs) != 1 {
		t.Fatalf("%d holders stored", len(docs))
	}
	holder = docs[0].ID
	if _, err := c.Update(ctx, holder, func(d *counter) error { d.Key = ""; d.Version++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, &counter{ID: "next", Key: "ticket-1"}); err != nil {
		t.Fatalf("a new holder after release: %v", err)
	}
}

func TestOutbox_PendingAndMarkPublishedKeepNewerEvents(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	first := event(t, 0)
	d := &counter{ID: "c1"}
	d.Record(first)
	_ = c.Insert(ctx, d)
	_ = c.Insert(ctx, &counter{ID: "quiet"})

	pending, err := c.Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].AggregateID != "c1" || len(pending[0].Events) != 1 || pending[0].Events[0].ID != first.ID {
		t.Fatalf("pending = %+v; want c1 with its one event", pending)
	}
	// A change after the relay read the outbox adds an event the relay
	// has not published: marking the first must keep it.
	second := event(t, 1)
	_, _ = c.Update(ctx, "c1", func(d *counter) error { d.Version++; d.Record(second); return nil })
	if err := c.MarkPublished(ctx, "c1", []string{first.ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Get(ctx, "c1")
	if len(got.Outbox) != 1 || got.Outbox[0].ID != second.ID || !got.OutboxPending || got.Version != 1 {
		t.Fatalf("after marking the first: outbox %v pending %v version %d", got.Outbox, got.OutboxPending, got.Version)
	}
	if err := c.MarkPublished(ctx, "c1", []string{second.ID}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Get(ctx, "c1")
	if len(got.Outbox) != 0 || got.OutboxPending {
		t.Fatalf("after marking both: outbox %v pending %v", got.Outbox, got.OutboxPending)
	}
	if pending, _ := c.Pending(ctx, 10); len(pending) != 0 {
		t.Fatalf("still pending: %+v", pending)
	}
}

func TestUpdate_BookkeepingWriteOfAnotherProcessIsNotOverwritten(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	first := event(t, 0)
	d := &counter{ID: "c1"}
	d.Record(first)
	_ = c.Insert(ctx, d)
	calls := 0
	_, err := c.Update(ctx, "c1", func(d *counter) error {
		calls++
		if calls == 1 {
			// Another instance's relay publishes the outbox meanwhile: a
			// write that leaves the version as it was.
			other := docstore.New[counter](c.Mongo(), nil)
			if err := other.MarkPublished(ctx, "c1", []string{first.ID}); err != nil {
				t.Fatal(err)
			}
		}
		d.Value++
		d.Version++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.Get(ctx, "c1")
	if calls != 2 || len(got.Outbox) != 0 || got.Value != 1 || got.Version != 1 {
		t.Fatalf("calls %d, outbox %d, value %d, version %d: the stale write must be retried on the published document (2, 0, 1, 1)",
			calls, len(got.Outbox), got.Value, got.Version)
	}
}

func TestUpdate_DocumentWithoutRevisionIsUpdatable(t *testing.T) {
	t.Parallel()
	c := newCollection(t)
	ctx := context.Background()
	// Stored by other means: no rev field.
	if _, err := c.Mongo().InsertOne(ctx, bson.M{"_id": "c1", "value": 1, "version": 3}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Update(ctx, "c1", func(d *counter) error { d.Value++; d.Version++; return nil }); err != nil {
			t.Fatalf("update %d: %v", i+1, err)
		}
	}
	got, _ := c.Get(ctx, "c1")
	if got.Value != 3 || got.Version != 5 || got.Revision != 2 {
		t.Fatalf("value %d, version %d, rev %d; want 3, 5, 2", got.Value, got.Version, got.Revision)
	}
}

func TestUpdate_RememberedCopyMadeStaleByAnotherProcess(t *testing.T) {
	t.Parallel()
	// The collection remembers what it wrote and starts updates from that
	// copy; another process's write makes the copy stale. Whatever the copy
	// says, the outcome must be decided on the stored document.
	cases := []struct {
		name       string
		mine       int // value this process wrote (and remembers)
		theirs     int // value another process wrote since
		want       int // value the update wants: it writes unless equal
		wantStored int
		wantWrite  bool
	}{
		{name: "copy says write, stored says unchanged", mine: 0, theirs: 7, want: 7, wantStored: 7},
		{name: "copy says unchanged, stored says write", mine: 5, theirs: 6, want: 5, wantStored: 5, wantWrite: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCollection(t)
			ctx := context.Background()
			if err := c.Insert(ctx, &counter{ID: "c1", Value: tc.mine}); err != nil {
				t.Fatal(err)
			}
			other := docstore.New[counter](c.Mongo(), nil)
			if _, err := other.Update(ctx, "c1", func(d *counter) error { d.Value = tc.theirs; d.Version++; return nil }); err != nil {
				t.Fatal(err)
			}
			got, err := c.Update(ctx, "c1", func(d *counter) error {
				if d.Value == tc.want {
					return docstore.ErrUnchanged
				}
				d.Value = tc.want
				d.Version++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := c.Get(ctx, "c1")
			if stored.Value != tc.wantStored || got.Value != tc.wantStored || stored.Revision != got.Revision {
				t.Fatalf("stored %+v, returned %+v; want value %d in both", stored, got, tc.wantStored)
			}
			if wantRev := int64(1); tc.wantWrite {
				if stored.Revision != wantRev+1 {
					t.Fatalf("revision %d, want %d: the write must follow the other process's", stored.Revision, wantRev+1)
				}
			} else if stored.Revision != wantRev {
				t.Fatalf("revision %d, want %d: nothing should have been written", stored.Revision, wantRev)
			}
		})
	}
}

// relayLog records what a collection tells its relay.
type relayLog struct {
	mu       sync.Mutex
	handoffs []events.Pending
}

func (r *relayLog) Wake() {}
func (r *relayLog) Handoff(p events.Pending) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handoffs = append(r.handoffs, p)
}

func TestHandoff_EachEventIsHandedOffOnceByTheWriteThatAddedIt(t *testing.T) {
	t.Parallel()
	c, log := withRelayLog(t)
	ctx := context.Background()
	created, changed := event(t, 0), event(t, 1)
	d := &counter{ID: "c1"}
	d.Record(created)
	if err := c.Insert(ctx, d); err != nil {
		t.Fatal(err)
	}
	// Bookkeeping that adds no event, while created is still unpublished.
	if _, err := c.Update(ctx, "c1", func(d *counter) error { d.Key = "k"; return nil }); err != nil {
		t.Fatal(err)
	}
	// A change that adds an event.
	if _, err := c.Update(ctx, "c1", func(d *counter) error { d.Value++; d.Version++; d.Record(changed); return nil }); err != nil {
		t.Fatal(err)
	}
	got := log.handedOff()
	if len(got) != 2 || len(got[0]) != 1 || got[0][0] != created.ID || len(got[1]) != 1 || got[1][0] != changed.ID {
		t.Fatalf("handoffs %v; want [[%s] [%s]]: each event once, by the write that added it", got, created.ID, changed.ID)
	}
	if stored, _ := c.Get(ctx, "c1"); len(stored.Outbox) != 2 {
		t.Fatalf("outbox %d events, want both until the relay marks them", len(stored.Outbox))
	}
}

// withRelayLog returns a collection whose relay is a log of its handoffs.
func withRelayLog(t *testing.T) (*docstore.Collection[counter, *counter], *relayLog) {
	t.Helper()
	log := &relayLog{}
	return docstore.New[counter](newCollection(t).Mongo(), log), log
}

// handedOff lists the event ids of each handoff.
func (r *relayLog) handedOff() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var got [][]string
	for _, h := range r.handoffs {
		var ids []string
		for _, e := range h.Events {
			ids = append(ids, e.ID)
		}
		got = append(got, ids)
	}
	return got
}

// clearKey is a bookkeeping change for Release: it drops the key.
func clearKey(d *counter) error {
	if d.Key == "" {
		return docstore.ErrUnchanged
	}
	d.Key = ""
	return nil
}

func TestInsertHeld_ReleaseLeavesTheBookkeepingToTheMark(t *testing.T) {
	t.Parallel()
	c, log := withRelayLog(t)
	ctx := context.Background()
	created := event(t, 0)
	d := &counter{ID: "h1", Key: "pending-h1"}
	d.Record(created)
	if err := c.InsertHeld(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := log.handedOff(); len(got) != 0 {
		t.Fatalf("handed off %v before the release", got)
	}
	if err := c.Release(ctx, "h1", clearKey); err != nil {
		t.Fatal(err)
	}
	if got := log.handedOff(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != created.ID {
		t.Fatalf("handoffs %v, want [[%s]]", got, created.ID)
	}
	stored, err := c.Get(ctx, "h1")
	if err != nil || stored.Key != "pending-h1" || stored.Revision != 0 {
		t.Fatalf("after the release: %+v (%v); want it untouched until the mark", stored, err)
	}
	if err := c.MarkPublished(ctx, "h1", []string{created.ID}); err != nil {
		t.Fatal(err)
	}
	stored, err = c.Get(ctx, "h1")
	if err != nil || stored.Key != "" || len(stored.Outbox) != 0 || stored.OutboxPending || stored.Revision != 1 {
		t.Fatalf("after the mark: %+v (%v); want the key cleared and the outbox empty in one write (rev 1)", stored, err)
	}
}

func TestInsertHeld_AWriteBeforeTheReleaseHandsTheHeldEventsOffInOrder(t *testing.T) {
	t.Parallel()
	c, log := withRelayLog(t)
	ctx := context.Background()
	created, changed := event(t, 0), event(t, 1)
	d := &counter{ID: "h2", Key: "pending-h2"}
	d.Record(created)
	if err := c.InsertHeld(ctx, d); err != nil {
		t.Fatal(err)
	}
	// A change before the release (the creation being withdrawn).
	if _, err := c.Update(ctx, "h2", func(d *counter) error { d.Value++; d.Version++; d.Record(changed); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := log.handedOff(); len(got) != 1 || len(got[0]) != 2 || got[0][0] != created.ID || got[0][1] != changed.ID {
		t.Fatalf("handoffs %v, want [[%s %s]]: the held event first", got, created.ID, changed.ID)
	}
	// Nothing is held any more: the release writes its change itself.
	if err := c.Release(ctx, "h2", clearKey); err != nil {
		t.Fatal(err)
	}
	if got := log.handedOff(); len(got) != 1 {
		t.Fatalf("handoffs %v after the release, want no more", got)
	}
	stored, err := c.Get(ctx, "h2")
	if err != nil || stored.Key != "" || stored.Revision != 2 || len(stored.Outbox) != 2 {
		t.Fatalf("stored %+v (%v); want the key cleared by a write of its own, both events kept", stored, err)
	}
}

func TestRelease_FailedMarkKeepsTheBookkeepingForTheNext(t *testing.T) {
	t.Parallel()
	c, _ := withRelayLog(t)
	ctx := context.Background()
	created := event(t, 0)
	d := &counter{ID: "h3", Key: "pending-h3"}
	d.Record(created)
	if err := c.InsertHeld(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx, "h3", clearKey); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.MarkPublished(cancelled, "h3", []string{created.ID}); err == nil {
		t.Fatal("a mark with a cancelled context succeeded")
	}
	if err := c.MarkPublished(ctx, "h3", []string{created.ID}); err != nil {
		t.Fatal(err)
	}
	stored, err := c.Get(ctx, "h3")
	if err != nil || stored.Key != "" || len(stored.Outbox) != 0 {
		t.Fatalf("stored %+v (%v); want the retried mark to clear the key too", stored, err)
	}
}
