package docstore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Replica keeps local copies of another service's aggregates from their
// events. Events carry the whole state and its version, so a copy converges
// on the newest version whatever the delivery order: a duplicate or an
// older version changes nothing, a newer one always applies.
type Replica[T any] struct {
	coll  *mongo.Collection
	locks *Locks
}

// NewReplica returns the replica kept in coll; documents need `_id` (the
// aggregate id) and `version` fields.
func NewReplica[T any](coll *mongo.Collection) *Replica[T] {
	return &Replica[T]{coll: coll, locks: &Locks{}}
}

// Mongo is the underlying collection, for queries and indexes.
func (r *Replica[T]) Mongo() *mongo.Collection { return r.coll }

// Apply stores doc, the aggregate id at version, unless the stored copy is
// as new or newer. It reports whether it stored doc. One conditional
// single-document write: an upsert filtered on a lower version, where a
// newer stored copy makes the upsert's insert collide on _id.
func (r *Replica[T]) Apply(ctx context.Context, id string, version int64, doc *T) (bool, error) {
	unlock := r.locks.Lock(id)
	defer unlock()
	res, err := r.coll.ReplaceOne(ctx, bson.M{"_id": id, "version": bson.M{"$lt": version}}, doc, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return res.ModifiedCount+res.UpsertedCount > 0 || res.MatchedCount > 0, nil
}

// Get reads the copy of id.
func (r *Replica[T]) Get(ctx context.Context, id string) (*T, error) {
	var doc T
	err := r.coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &doc, nil
}
