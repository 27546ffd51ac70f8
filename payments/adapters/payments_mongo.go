// Package adapters connects the payments use cases to the outside: the
// Mongo repository and order replica, Stripe, and Keto.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// PaymentsCollection holds the payments.
// WARNING: a stored name; renaming it orphans existing data.
const PaymentsCollection = "payments"

// paymentIndexes are the payments indexes, fresh for each call: the driver
// writes into the models it is given, so they are never shared.
// WARNING: stored names; renaming one creates a second index.
func paymentIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// THE one-payment-per-order rule: of two concurrent inserts for an
			// order, one wins (atomic on FerretDB as on MongoDB).
			Keys:    bson.D{{Key: "orderId", Value: 1}},
			Options: options.Index().SetName("order_unique").SetUnique(true),
		},
		{
			// Webhook events find their payment by PaymentIntent; free
			// payments, and pending ones before Stripe answered, have none.
			Keys:    bson.D{{Key: "stripeId", Value: 1}},
			Options: options.Index().SetName("stripe_intent").SetSparse(true),
		},
		{
			Keys:    bson.D{{Key: "grantsPending", Value: 1}},
			Options: options.Index().SetName("grants_pending").SetSparse(true),
		},
		{
			// The admins' list by status (the payments held for review),
			// newest first.
			Keys:    bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("status_newest"),
		},
	}
}

// paymentDocument is a payment as stored: flat, every change a whole-
// document write. stripeEvents are the Stripe event ids already applied,
// written in the same write as the change each caused. stripeId and
// grantsPending exist only while set (omitempty), for their sparse indexes.
type paymentDocument struct {
	ID            string          `bson:"_id"`
	OrderID       string          `bson:"orderId"`
	UserID        string          `bson:"userId"`
	Amount        int64           `bson:"amount"`
	Currency      string          `bson:"currency"`
	StripeID      string          `bson:"stripeId,omitempty"`
	ClientSecret  string          `bson:"clientSecret,omitempty"`
	Status        string          `bson:"status"`
	CreatedAt     time.Time       `bson:"createdAt"`
	StripeEvents  []string        `bson:"stripeEvents,omitempty"`
	Review        *reviewDocument `bson:"review,omitempty"`
	GrantsPending bool            `bson:"grantsPending,omitempty"`
	docstore.Meta `bson:",inline"`
}

// reviewDocument is why a payment was held for review and how an admin
// resolved it (domain.Review), kept once the payment leaves review.
type reviewDocument struct {
	Reasons    []string  `bson:"reasons"`
	EventID    string    `bson:"eventId"`
	Amount     int64     `bson:"amount"`
	Currency   string    `bson:"currency"`
	HeldAt     time.Time `bson:"heldAt"`
	Resolution string    `bson:"resolution,omitempty"`
	ResolvedBy string    `bson:"resolvedBy,omitempty"`
	ResolvedAt time.Time `bson:"resolvedAt,omitempty"`
}

// DocMeta implements docstore.Document.
func (d *paymentDocument) DocMeta() *docstore.Meta { return &d.Meta }

// MongoPaymentRepository stores payments with docstore: every write of a
// payment is serialized and version-filtered, and carries its event in the
// same single-document write (the outbox the relay publishes).
type MongoPaymentRepository struct {
	payments *docstore.Collection[paymentDocument, *paymentDocument]
}

var _ domain.Repository = (*MongoPaymentRepository)(nil)

// NewMongoPaymentRepository returns the repository on db, creating its
// indexes if they are missing. waker is told when a write stored events
// (the outbox relay); it may be nil.
func NewMongoPaymentRepository(ctx context.Context, db *mongo.Database, waker docstore.Waker) (*MongoPaymentRepository, error) {
	payments, err := docstore.Open[paymentDocument](ctx, db.Collection(PaymentsCollection), waker, paymentIndexes()...)
	if err != nil {
		return nil, err
	}
	return &MongoPaymentRepository{payments: payments}, nil
}

// Outbox is the store the outbox relay reads.
func (r *MongoPaymentRepository) Outbox() events.OutboxStore { return r.payments }

// NextID implements domain.Repository: an ObjectId.
func (r *MongoPaymentRepository) NextID() string { return primitive.NewObjectID().Hex() }

// Add implements domain.Repository.
func (r *MongoPaymentRepository) Add(ctx context.Context, p *domain.Payment) error {
	doc := toDocument(p)
	doc.GrantsPending = true
	if name, ok := statusEvents[p.Status()]; ok {
		if err := recordEvent(ctx, doc, name); err != nil {
			return err
		}
	}
	err := r.payments.Insert(ctx, doc)
	if errors.Is(err, docstore.ErrDuplicate) {
		return fmt.Errorf("%w: %v", domain.ErrPaymentExists, err)
	}
	return mongodb.Error(err)
}

// Get implements domain.Repository.
func (r *MongoPaymentRepository) Get(ctx context.Context, id string) (*domain.Payment, error) {
	doc, err := r.payments.Get(ctx, id)
	if errors.Is(err, docstore.ErrNotFound) {
		return nil, domain.ErrPaymentNotFound
	}
	if err != nil {
		return nil, mongodb.Error(err)
	}
	return fromDocument(doc), nil
}

// ByOrder implements domain.Repository.
func (r *MongoPaymentRepository) ByOrder(ctx context.Context, orderID string) (*domain.Payment, error) {
	return r.findOne(ctx, bson.D{{Key: "orderId", Value: orderID}})
}

// ByStripeID implements domain.Repository.
func (r *MongoPaymentRepository) ByStripeID(ctx context.Context, stripeID string) (*domain.Payment, error) {
	if stripeID == "" {
		return nil, domain.ErrPaymentNotFound
	}
	return r.findOne(ctx, bson.D{{Key: "stripeId", Value: stripeID}})
}

// List implements domain.Repository: newest first is by _id (ObjectIds
// rise with time), the keyset is the last id of the previous page.
func (r *MongoPaymentRepository) List(ctx context.Context, q domain.ListQuery) ([]*domain.Payment, error) {
	filter := bson.D{{Key: "status", Value: string(q.Status)}}
	if q.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(q.Limit)).SetProjection(bson.D{{Key: "outbox", Value: 0}})
	return r.find(ctx, filter, opts)
}

// Update implements domain.Repository. A change of status records the
// event named after the status reached; storing the PaymentIntent records
// none (there is no payment.created event), nor does a hold for review
// (see silentStatuses).
func (r *MongoPaymentRepository) Update(ctx context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error) {
	doc, err := r.payments.Update(ctx, id, func(doc *paymentDocument) error {
		p := fromDocument(doc)
		before := p.Status()
		changed, err := change(p)
		if err != nil {
			return err
		}
		if !changed {
			return docstore.ErrUnchanged
		}
		next := toDocument(p)
		next.GrantsPending, next.Meta = doc.GrantsPending, doc.Meta
		next.Version = p.Version()
		*doc = *next
		if p.Status() == before || silentStatuses[p.Status()] {
			return nil
		}
		name, ok := statusEvents[p.Status()]
		if !ok {
			return fmt.Errorf("payment %s: no event for a change to %s", id, p.Status())
		}
		return recordEvent(ctx, doc, name)
	})
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		return nil, domain.ErrPaymentNotFound
	case err != nil:
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, mongodb.Error(err)
	}
	return fromDocument(doc), nil
}

// statusEvents names the event of a payment by the status it reached.
var statusEvents = map[domain.Status]events.Name{
	domain.StatusSucceeded: events.PaymentSucceeded,
	domain.StatusFailed:    events.PaymentFailed,
	domain.StatusRefunded:  events.PaymentRefunded,
}

// silentStatuses are reached without an event. A payment held for review
// is neither paid nor failed: no consumer may act on it (the order keeps
// its hold, as after a failure), and the admin's resolution publishes
// payment.succeeded.v1 or payment.refunded.v1.
var silentStatuses = map[domain.Status]bool{domain.StatusReview: true}

// GrantsDone implements domain.Repository: it clears the flag through the
// serialized write path, without a version change or an event. A
// concurrent writer from another process may set it again; the repairer
// then writes the tuples once more, which is harmless.
func (r *MongoPaymentRepository) GrantsDone(ctx context.Context, id string) error {
	_, err := r.payments.Update(ctx, id, func(doc *paymentDocument) error {
		if !doc.GrantsPending {
			return docstore.ErrUnchanged
		}
		doc.GrantsPending = false
		return nil
	})
	if errors.Is(err, docstore.ErrNotFound) {
		return domain.ErrPaymentNotFound
	}
	return mongodb.Error(err)
}

// GrantsPending implements domain.Repository.
func (r *MongoPaymentRepository) GrantsPending(ctx context.Context, cutoff time.Time, limit int) ([]*domain.Payment, error) {
	filter := bson.D{{Key: "grantsPending", Value: true}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	return r.find(ctx, filter, options.Find().SetLimit(int64(limit)).SetProjection(bson.D{{Key: "outbox", Value: 0}}))
}

func (r *MongoPaymentRepository) find(ctx context.Context, filter bson.D, opts *options.FindOptions) ([]*domain.Payment, error) {
	cur, err := r.payments.Mongo().Find(ctx, filter, opts)
	if err != nil {
		return nil, mongodb.Error(err)
	}
	var docs []paymentDocument
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mongodb.Error(err)
	}
	out := make([]*domain.Payment, len(docs))
	for i := range docs {
		out[i] = fromDocument(&docs[i])
	}
	return out, nil
}

func (r *MongoPaymentRepository) findOne(ctx context.Context, filter bson.D) (*domain.Payment, error) {
	var doc paymentDocument
	err := r.payments.Mongo().FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "outbox", Value: 0}})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, domain.ErrPaymentNotFound
	}
	if err != nil {
		return nil, mongodb.Error(err)
	}
	return fromDocument(&doc), nil
}

// recordEvent adds the payment's event, its whole state, to the outbox.
func recordEvent(ctx context.Context, doc *paymentDocument, name events.Name) error {
	e, err := events.New(name, paymentEvent(doc), events.Meta{CorrelationID: correlationID(ctx)})
	if err != nil {
		return err
	}
	doc.Record(e)
	return nil
}

// correlationID ties the event to what caused it: the event being handled,
// else the request.
func correlationID(ctx context.Context) string {
	if id := logging.CorrelationID(ctx); id != "" {
		return id
	}
	return logging.RequestID(ctx)
}

func paymentEvent(doc *paymentDocument) events.Payment {
	return events.Payment{
		ID: doc.ID, OrderID: doc.OrderID, UserID: doc.UserID, StripeID: doc.StripeID,
		Amount: doc.Amount, Currency: doc.Currency, Status: doc.Status, Version: doc.Version,
	}
}

func toDocument(p *domain.Payment) *paymentDocument {
	return &paymentDocument{
		ID: p.ID(), OrderID: p.OrderID(), UserID: p.UserID(), Amount: p.Amount(), Currency: p.Currency(),
		StripeID: p.StripeID(), ClientSecret: p.ClientSecret(), Status: string(p.Status()),
		CreatedAt: p.CreatedAt(), StripeEvents: p.StripeEvents(), Review: toReviewDocument(p.Review()),
		Meta: docstore.Meta{Version: p.Version()},
	}
}

func fromDocument(d *paymentDocument) *domain.Payment {
	return domain.RestorePayment(d.ID, d.OrderID, d.UserID, d.Amount, d.Currency, d.StripeID, d.ClientSecret,
		domain.Status(d.Status), d.CreatedAt, d.StripeEvents, fromReviewDocument(d.Review), d.Version)
}

func toReviewDocument(r *domain.Review) *reviewDocument {
	if r == nil {
		return nil
	}
	reasons := make([]string, len(r.Reasons))
	for i, m := range r.Reasons {
		reasons[i] = string(m)
	}
	return &reviewDocument{
		Reasons: reasons, EventID: r.EventID, Amount: r.Amount, Currency: r.Currency, HeldAt: r.HeldAt,
		Resolution: string(r.Resolution), ResolvedBy: r.ResolvedBy, ResolvedAt: r.ResolvedAt,
	}
}

func fromReviewDocument(d *reviewDocument) *domain.Review {
	if d == nil {
		return nil
	}
	reasons := make([]domain.Mismatch, len(d.Reasons))
	for i, m := range d.Reasons {
		reasons[i] = domain.Mismatch(m)
	}
	return &domain.Review{
		Reasons: reasons, EventID: d.EventID, Amount: d.Amount, Currency: d.Currency, HeldAt: d.HeldAt.UTC(),
		Resolution: domain.Resolution(d.Resolution), ResolvedBy: d.ResolvedBy, ResolvedAt: d.ResolvedAt.UTC(),
	}
}
