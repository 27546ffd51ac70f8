package adapters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/tickets/app"
	"github.com/ticketing/ticketing/tickets/domain"
)

// TicketsCollection holds the tickets service's tickets.
// WARNING: a stored name; renaming it orphans existing data.
const TicketsCollection = "tickets"

// ticketIndexes are the indexes the queries need; new values on each call,
// since the driver writes into the options it is given.
// WARNING: stored names; renaming one creates a second index.
func ticketIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// The available list, newest first.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("status_id")},
		// A seller's tickets (?mine=true), newest first.
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("user_id")},
		// The grants repairer's scan: only flagged tickets carry the field.
		{Keys: bson.D{{Key: "grantsPending", Value: 1}}, Options: options.Index().SetName("grants_pending").SetSparse(true)},
	}
}

// NewTicketID returns a new ticket id: an ObjectId as 24 lower-case hex
// digits, which sort by creation time (newest-first lists use it as key).
func NewTicketID() string { return primitive.NewObjectID().Hex() }

// MongoTicketRepository stores tickets in Mongo through pkg/docstore: every
// write is a whole-document write, serialized per ticket in the process and
// filtered on the version, with the event it causes stored in the same
// write (the outbox).
type MongoTicketRepository struct {
	store *docstore.Collection[ticketDocument, *ticketDocument]
}

var _ app.Tickets = (*MongoTicketRepository)(nil)

// NewMongoTicketRepository returns the repository on db, creating its
// indexes if they are missing (creating an existing index is a no-op).
// waker (the outbox relay) is told of every write that stored events.
//
// The indexes are created one per call: FerretDB v1.24 panics (and drops
// the connection) on a createIndexes of two or more indexes that exist
// already, i.e. on every restart.
func NewMongoTicketRepository(ctx context.Context, db *mongo.Database, waker docstore.Waker) (*MongoTicketRepository, error) {
	store, err := docstore.Open[ticketDocument](ctx, db.Collection(TicketsCollection), waker, ticketIndexes()...)
	if err != nil {
		return nil, err
	}
	return &MongoTicketRepository{store: store}, nil
}

// Outbox is the store an events.Relay publishes from.
func (r *MongoTicketRepository) Outbox() events.OutboxStore { return r.store }

// Add inserts the ticket, flagged "grants pending", with its
// ticket.created.v1 event.
func (r *MongoTicketRepository) Add(ctx context.Context, t *domain.Ticket) error {
	d := &ticketDocument{GrantsPending: true}
	d.set(t)
	if err := d.record(ctx, events.TicketCreated); err != nil {
		return err
	}
	err := r.store.InsertHeld(ctx, d)
	if errors.Is(err, docstore.ErrDuplicate) {
		return apierr.Internal(fmt.Errorf("add ticket: id %s is taken: %w", t.ID(), err))
	}
	return mongodb.Error(err)
}

// Get reads the ticket with id.
func (r *MongoTicketRepository) Get(ctx context.Context, id string) (*domain.Ticket, error) {
	d, err := r.store.Get(ctx, id)
	if err != nil {
		return nil, storeError(err)
	}
	return d.ticket()
}

// Update applies fn and writes the result with a ticket.updated.v1 event
// when the version went up, and a ticket.reservation_refused.v1 when fn
// refused an order (domain.Ticket.Refusal); a change that keeps the
// version otherwise (an order event recorded as seen) stores no event.
func (r *MongoTicketRepository) Update(ctx context.Context, id string, fn func(*domain.Ticket) error) (*domain.Ticket, error) {
	var fnErr error
	d, err := r.store.Update(ctx, id, func(d *ticketDocument) error {
		fnErr = nil
		t, err := d.ticket()
		if err == nil {
			err = fn(t)
		}
		if errors.Is(err, domain.ErrNoChange) {
			return docstore.ErrUnchanged
		}
		if err != nil {
			fnErr = err
			return err
		}
		before := d.Version
		d.set(t)
		if d.Version != before {
			if err := d.record(ctx, events.TicketUpdated); err != nil {
				fnErr = err
				return err
			}
		}
		if refusal, ok := t.Refusal(); ok {
			if err := d.recordRefusal(ctx, refusal); err != nil {
				fnErr = err
				return err
			}
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return nil, fnErr
	case err != nil:
		return nil, storeError(err)
	}
	return d.ticket()
}

// MarkGranted clears the grants flag: a write that neither raises the
// version nor records an event. Add holds ticket.created until then
// (docstore.InsertHeld), and the relay's write that removes the event
// clears the flag too.
func (r *MongoTicketRepository) MarkGranted(ctx context.Context, id string) error {
	err := r.store.Release(ctx, id, func(d *ticketDocument) error {
		if !d.GrantsPending {
			return docstore.ErrUnchanged
		}
		d.GrantsPending = false
		return nil
	})
	return storeError(err)
}

// PendingGrants finds flagged tickets listed before listedBefore, oldest
// first.
func (r *MongoTicketRepository) PendingGrants(ctx context.Context, listedBefore time.Time, limit int) ([]*domain.Ticket, error) {
	filter := bson.D{{Key: "grantsPending", Value: true}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: listedBefore}}}}
	return r.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

// List finds tickets newest first. The title search is a regular
// expression on the lower-cased title with every metacharacter escaped
// (regexp.QuoteMeta), so it matches the literal text only; checked on
// FerretDB v1.24 and valid for MongoDB's PCRE.
func (r *MongoTicketRepository) List(ctx context.Context, f app.TicketFilter) ([]*domain.Ticket, error) {
	filter := bson.D{}
	if f.SellerID != "" {
		filter = append(filter, bson.E{Key: "userId", Value: f.SellerID})
	} else {
		filter = append(filter, bson.E{Key: "status", Value: string(domain.StatusAvailable)})
	}
	if f.Title != "" {
		filter = append(filter, bson.E{Key: "titleLower", Value: primitive.Regex{Pattern: regexp.QuoteMeta(string(f.Title))}})
	}
	if f.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.After}}})
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "_id", Value: -1}}).
		SetLimit(int64(f.Limit)).
		SetProjection(bson.D{{Key: "outbox", Value: 0}, {Key: "seenOrders", Value: 0}})
	return r.find(ctx, filter, opts)
}

func (r *MongoTicketRepository) find(ctx context.Context, filter bson.D, opts *options.FindOptions) ([]*domain.Ticket, error) {
	cur, err := r.store.Mongo().Find(ctx, filter, opts)
	if err != nil {
		return nil, mongodb.Error(err)
	}
	var docs []ticketDocument
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mongodb.Error(err)
	}
	out := make([]*domain.Ticket, 0, len(docs))
	for i := range docs {
		t, err := docs[i].ticket()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// storeError maps the store's errors: a missing ticket is
// domain.ErrTicketNotFound; a document that kept changing under the write
// (other instances) is a retryable 503.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, docstore.ErrNotFound):
		return domain.ErrTicketNotFound
	case errors.Is(err, docstore.ErrConflict):
		return apierr.Unavailable("the database", err)
	}
	return mongodb.Error(err)
}
