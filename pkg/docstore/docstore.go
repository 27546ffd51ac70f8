// Package docstore is how services write their aggregates to MongoDB so that
// the invariants hold under concurrency and crashes, on MongoDB and on the
// local FerretDB alike (docs/architecture.md, "Consistency by construction"):
//
//   - every write to one document goes through Update, which serializes
//     writes per document id inside the process and keeps a revision filter
//     (optimistic concurrency between processes);
//   - a write replaces the whole document, so it needs no update operators
//     (FerretDB v1 gets several wrong);
//   - the events a change causes are stored in the same document (the
//     outbox), in the same single-document write, and relayed afterwards;
//   - uniqueness (one active order per ticket, one user per email) is a
//     unique index, and a violation is ErrDuplicate.
package docstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/events"
)

// Meta is embedded inline (`bson:",inline"`) in every aggregate document.
type Meta struct {
	// Version is the aggregate's version: 0 when created, +1 per domain
	// change (the version events carry).
	Version int64 `bson:"version"`
	// Revision counts every write of the document, domain changes and
	// bookkeeping alike (publishing the outbox, clearing a flag): Update's
	// filter is on it, so no write by another process is ever overwritten,
	// not even one that left the version as it was.
	Revision int64 `bson:"rev"`
	// Outbox holds the events of committed changes not yet published.
	Outbox []events.Envelope `bson:"outbox,omitempty"`
	// OutboxPending is set while Outbox is not empty; the relay finds
	// documents by it (an index, no array operators).
	OutboxPending bool `bson:"outboxPending,omitempty"`
}

// Record adds an event to the outbox, to be written with the change.
func (m *Meta) Record(e events.Envelope) {
	m.Outbox = append(m.Outbox, e)
	m.OutboxPending = true
}

// Document is implemented by a pointer to an aggregate document.
type Document interface {
	DocMeta() *Meta
}

// Errors of the store.
var (
	// ErrNotFound: no document has that id.
	ErrNotFound = errors.New("docstore: not found")
	// ErrDuplicate: a unique index refused the write.
	ErrDuplicate = errors.New("docstore: duplicate key")
	// ErrUnchanged, returned by an Update function, skips the write: the
	// change was already applied (an idempotent redelivery).
	ErrUnchanged = errors.New("docstore: unchanged")
	// ErrConflict: the document kept changing under the update (another
	// process wrote it) more often than Update retries.
	ErrConflict = errors.New("docstore: concurrent update")
)

// Waker is told when a write stored events: the outbox relay
// (*events.Relay, or an *events.RelayRef to one built later).
type Waker interface {
	// Wake asks for a scan of the outbox.
	Wake()
	// Handoff gives the relay the events a write just added.
	Handoff(events.Pending)
}

// Collection is a collection of aggregates of type T.
type Collection[T any, PT interface {
	*T
	Document
}] struct {
	coll   *mongo.Collection
	locks  *Locks
	waker  Waker
	recent *recent
	// held are the ids inserted by InsertHeld whose events no write has
	// handed to the relay yet.
	held sync.Map
	// settles are the bookkeeping changes Release left for the write that
	// marks the document's events published.
	settleMu sync.Mutex
	settles  map[string]func(PT) error
}

// New returns the aggregate collection over coll. waker may be nil.
func New[T any, PT interface {
	*T
	Document
}](coll *mongo.Collection, waker Waker) *Collection[T, PT] {
	return &Collection[T, PT]{
		coll: coll, locks: &Locks{}, waker: waker, recent: newRecent(recentSize),
		settles: map[string]func(PT) error{},
	}
}

// Mongo is the underlying collection, for queries and indexes.
func (c *Collection[T, PT]) Mongo() *mongo.Collection { return c.coll }

// Insert writes a new document with its outbox.
func (c *Collection[T, PT]) Insert(ctx context.Context, doc PT) error {
	res, err := c.coll.InsertOne(ctx, doc)
	if err != nil {
		return classify(err)
	}
	if id, ok := res.InsertedID.(string); ok {
		c.recent.put(id, doc)
		c.handoff(id, doc.DocMeta().Outbox)
	} else {
		c.wakeScan(doc)
	}
	return nil
}

// InsertHeld writes a new document like Insert, but keeps its events from
// the relay until Release (or any later write of the document) hands them
// over. It is for a creation followed by bookkeeping, such as permissions
// written after the record: the events leave once that is done, and the
// write that marks them published also records the bookkeeping, instead of
// a write of its own.
func (c *Collection[T, PT]) InsertHeld(ctx context.Context, doc PT) error {
	res, err := c.coll.InsertOne(ctx, doc)
	if err != nil {
		return classify(err)
	}
	id, ok := res.InsertedID.(string)
	if !ok {
		c.wakeScan(doc)
		return nil
	}
	c.recent.put(id, doc)
	if c.waker != nil && len(doc.DocMeta().Outbox) > 0 {
		// Without a relay nothing would carry the bookkeeping: Release
		// then writes it at once.
		c.held.Store(id, struct{}{})
	}
	return nil
}

// Release hands the events InsertHeld kept to the relay, and leaves settle
// (a bookkeeping change: no version, no event; ErrUnchanged when there is
// nothing to do) to the write that marks them published. When no held
// events are left for such a write, settle is written at once. A crash
// before the mark loses settle, never an event: the events stay in the
// outbox and the bookkeeping stays undone, for whatever repairs it.
func (c *Collection[T, PT]) Release(ctx context.Context, id string, settle func(PT) error) error {
	unlock := c.locks.Lock(id)
	doc, remembered := c.remembered(id, true)
	_, held := c.held.Load(id)
	if held && remembered && len(doc.DocMeta().Outbox) > 0 {
		c.held.Delete(id)
		c.keepSettle(id, settle)
		// Under the lock, so the next write's events queue behind these.
		c.handoff(id, doc.DocMeta().Outbox)
		unlock()
		return nil
	}
	unlock()
	_, err := c.Update(ctx, id, settle)
	return err
}

// keepSettle leaves settle for id's next mark; a newer one replaces it.
func (c *Collection[T, PT]) keepSettle(id string, settle func(PT) error) {
	c.settleMu.Lock()
	defer c.settleMu.Unlock()
	c.settles[id] = settle
}

// takeSettle returns and forgets what Release left for id, if anything.
func (c *Collection[T, PT]) takeSettle(id string) func(PT) error {
	c.settleMu.Lock()
	defer c.settleMu.Unlock()
	settle := c.settles[id]
	delete(c.settles, id)
	return settle
}

// Get reads the document with the given id.
func (c *Collection[T, PT]) Get(ctx context.Context, id string) (PT, error) {
	var doc T
	err := c.coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &doc, nil
}

// maxAttempts bounds Update's retries after a revision conflict.
const maxAttempts = 5

// Update applies fn to the current document and writes the result whole,
// only if nobody else wrote it meanwhile (revision filter); on a conflict it
// reads again and retries. fn must raise the version for a domain change and
// may return ErrUnchanged to skip the write. Writes to one id are
// serialized within the process.
//
// The current document is the one this process last wrote, when it
// remembers it, else the database's: the revision filter refuses a write
// from a copy another process made stale, and the retry reads. A decision
// not to write (ErrUnchanged) is only taken on the database's copy.
func (c *Collection[T, PT]) Update(ctx context.Context, id string, fn func(PT) error) (PT, error) {
	unlock := c.locks.Lock(id)
	defer unlock()
	fromMemory := true
	for conflicts := 0; conflicts < maxAttempts; {
		doc, remembered := c.remembered(id, fromMemory)
		if !remembered {
			var err error
			if doc, err = c.Get(ctx, id); err != nil {
				return nil, err
			}
		}
		before := doc.DocMeta().Revision
		queued := make(map[string]bool, len(doc.DocMeta().Outbox))
		for _, e := range doc.DocMeta().Outbox {
			queued[e.ID] = true
		}
		if err := fn(doc); errors.Is(err, ErrUnchanged) {
			if remembered {
				fromMemory = false // decide again on the stored copy
				continue
			}
			return doc, nil
		} else if err != nil {
			return nil, err
		}
		doc.DocMeta().Revision = before + 1
		ok, err := c.replace(ctx, id, before, doc)
		if err != nil {
			c.recent.forget(id)
			return nil, err
		}
		if ok {
			c.recent.put(id, doc)
			if _, held := c.held.LoadAndDelete(id); held {
				// The first write after InsertHeld: the held events leave
				// with this write's, in order.
				c.handoff(id, doc.DocMeta().Outbox)
				return doc, nil
			}
			// Only the events this write added: the older ones were handed
			// off already (or the scan finds them).
			var added []events.Envelope
			for _, e := range doc.DocMeta().Outbox {
				if !queued[e.ID] {
					added = append(added, e)
				}
			}
			c.handoff(id, added)
			return doc, nil
		}
		c.recent.forget(id)
		fromMemory = false
		conflicts++
	}
	return nil, fmt.Errorf("%w: %s", ErrConflict, id)
}

// remembered returns the copy of id this process last wrote, if it has one
// and fromMemory allows it.
func (c *Collection[T, PT]) remembered(id string, fromMemory bool) (PT, bool) {
	if !fromMemory {
		return nil, false
	}
	var doc T
	if !c.recent.get(id, &doc) {
		return nil, false
	}
	return &doc, true
}

func (c *Collection[T, PT]) replace(ctx context.Context, id string, revision int64, doc PT) (bool, error) {
	filter := bson.M{"_id": id, "rev": revision}
	if revision == 0 {
		// A document stored by other means (an import, a migration, data
		// from before revisions) has no rev yet: it counts as revision 0.
		filter = bson.M{"_id": id, "$or": bson.A{bson.M{"rev": 0}, bson.M{"rev": bson.M{"$exists": false}}}}
	}
	res, err := c.coll.ReplaceOne(ctx, filter, doc)
	if err != nil {
		return false, classify(err)
	}
	return res.MatchedCount == 1, nil
}

// wakeScan asks the relay to scan for doc's events.
func (c *Collection[T, PT]) wakeScan(doc PT) {
	if c.waker != nil && len(doc.DocMeta().Outbox) > 0 {
		c.waker.Wake()
	}
}

// handoff gives the relay events just written to id's outbox; it
// publishes them and removes them through MarkPublished, which starts from
// the copy this process remembers, so no read is needed.
func (c *Collection[T, PT]) handoff(id string, evs []events.Envelope) {
	if c.waker == nil || len(evs) == 0 {
		return
	}
	c.waker.Handoff(events.Pending{AggregateID: id, Events: append([]events.Envelope(nil), evs...)})
}

// Pending implements events.OutboxStore.
func (c *Collection[T, PT]) Pending(ctx context.Context, limit int) ([]events.Pending, error) {
	cur, err := c.coll.Find(ctx, bson.M{"outboxPending": true},
		options.Find().SetLimit(int64(limit)).SetProjection(bson.M{"_id": 1, "outbox": 1}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	var out []events.Pending
	for cur.Next(ctx) {
		var d struct {
			ID     string            `bson:"_id"`
			Outbox []events.Envelope `bson:"outbox"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		if len(d.Outbox) > 0 {
			out = append(out, events.Pending{AggregateID: d.ID, Events: d.Outbox})
		}
	}
	return out, cur.Err()
}

// MarkPublished implements events.OutboxStore: it removes the published
// events through the same serialized, revision-filtered path as every other
// write, keeping events added since, and in the same write records what
// Release left for it.
func (c *Collection[T, PT]) MarkPublished(ctx context.Context, id string, eventIDs []string) error {
	published := make(map[string]bool, len(eventIDs))
	for _, e := range eventIDs {
		published[e] = true
	}
	settle := c.takeSettle(id)
	_, err := c.Update(ctx, id, func(doc PT) error {
		settled := false
		if settle != nil {
			switch err := settle(doc); {
			case err == nil:
				settled = true
			case !errors.Is(err, ErrUnchanged):
				return err
			}
		}
		m := doc.DocMeta()
		keep := m.Outbox[:0]
		for _, e := range m.Outbox {
			if !published[e.ID] {
				keep = append(keep, e)
			}
		}
		if len(keep) == len(m.Outbox) && !settled {
			return ErrUnchanged
		}
		m.Outbox, m.OutboxPending = keep, len(keep) > 0
		if len(keep) == 0 {
			m.Outbox = nil
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil // deleted since: nothing left to mark
	case err != nil && settle != nil:
		// The next mark (the relay retries) records it.
		c.settleMu.Lock()
		if _, newer := c.settles[id]; !newer {
			c.settles[id] = settle
		}
		c.settleMu.Unlock()
	}
	return err
}

// EnsureOutboxIndex creates the index the relay's scan uses; idempotent.
func (c *Collection[T, PT]) EnsureOutboxIndex(ctx context.Context) error {
	_, err := c.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "outboxPending", Value: 1}},
		Options: options.Index().SetName("outbox_pending").SetSparse(true),
	})
	return err
}

// classify maps a unique-index violation to ErrDuplicate.
func classify(err error) error {
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	}
	return err
}

// Locks serializes work per key within the process (striped mutexes: a
// fixed memory cost, whatever the number of keys).
type Locks struct {
	stripes [1024]sync.Mutex
}

// Lock locks key and returns its unlock.
func (l *Locks) Lock(key string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	m := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// Open returns the aggregate collection over coll after creating its
// indexes and the outbox index, idempotently. Indexes are created one per
// call: FerretDB v1.24 panics (and drops the connection) on a createIndexes
// naming two or more indexes that exist already, i.e. on every restart.
// Pass freshly built models: the driver writes into their options.
func Open[T any, PT interface {
	*T
	Document
}](ctx context.Context, coll *mongo.Collection, waker Waker, indexes ...mongo.IndexModel) (*Collection[T, PT], error) {
	for _, index := range indexes {
		if _, err := coll.Indexes().CreateOne(ctx, index); err != nil {
			name := ""
			if index.Options != nil && index.Options.Name != nil {
				name = *index.Options.Name
			}
			return nil, fmt.Errorf("create index %s on %s: %w", name, coll.Name(), err)
		}
	}
	c := New[T, PT](coll, waker)
	if err := c.EnsureOutboxIndex(ctx); err != nil {
		return nil, fmt.Errorf("create the outbox index on %s: %w", coll.Name(), err)
	}
	return c, nil
}
