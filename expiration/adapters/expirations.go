package adapters

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/expiration/domain"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
)

// expiryDoc is one recorded expiry; its id is the order id, so an expiry
// is recorded once, and its outbox holds expiration.completed until the
// relay has published it.
type expiryDoc struct {
	OrderID       string    `bson:"_id"`
	ExpiredAt     time.Time `bson:"expiredAt"`
	docstore.Meta `bson:",inline"`
}

func (d *expiryDoc) DocMeta() *docstore.Meta { return &d.Meta }

// MongoExpirations stores expiries in the expiration service's database.
type MongoExpirations struct {
	docs *docstore.Collection[expiryDoc, *expiryDoc]
}

var (
	_ domain.Expirations = (*MongoExpirations)(nil)
	_ events.OutboxStore = (*MongoExpirations)(nil)
)

// NewMongoExpirations returns the store on db's "expirations" collection,
// creating its index; waker is told when an event was stored.
func NewMongoExpirations(ctx context.Context, db *mongo.Database, waker docstore.Waker) (*MongoExpirations, error) {
	docs, err := docstore.Open[expiryDoc](ctx, db.Collection("expirations"), waker)
	if err != nil {
		return nil, err
	}
	return &MongoExpirations{docs: docs}, nil
}

// Record implements domain.Expirations: one insert of the expiry with its
// event; the unique _id makes a second firing a no-op.
func (m *MongoExpirations) Record(ctx context.Context, orderID string, at time.Time, correlationID string) (bool, error) {
	e, err := events.New(events.ExpirationCompleted, events.Expiration{OrderID: orderID}, events.Meta{CorrelationID: correlationID})
	if err != nil {
		return false, err
	}
	doc := &expiryDoc{OrderID: orderID, ExpiredAt: at}
	doc.Record(e)
	err = m.docs.Insert(ctx, doc)
	if errors.Is(err, docstore.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}

// Pending implements events.OutboxStore.
func (m *MongoExpirations) Pending(ctx context.Context, limit int) ([]events.Pending, error) {
	return m.docs.Pending(ctx, limit)
}

// MarkPublished implements events.OutboxStore.
func (m *MongoExpirations) MarkPublished(ctx context.Context, id string, eventIDs []string) error {
	return m.docs.MarkPublished(ctx, id, eventIDs)
}
