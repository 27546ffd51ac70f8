// Package adapters implements the orders ports to the outside: the Mongo
// repository and ticket replica, and Keto permissions.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// OrdersCollection holds the orders.
// WARNING: a stored name; renaming it orphans existing data.
const OrdersCollection = "orders"

// orderIndexes are the indexes of the orders collection, built fresh per
// use (the driver writes into the options it is given).
// WARNING: stored names; renaming one creates a second index.
func orderIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// THE one-active-order rule: only created and complete orders
			// carry activeTicketId (sparse), and no two may carry the same.
			Keys:    bson.D{{Key: "activeTicketId", Value: 1}},
			Options: options.Index().SetName("active_ticket_unique").SetUnique(true).SetSparse(true),
		},
		{
			// THE hold limit: only created orders carry holdSlot
			// ("<buyer>:<k>", k below the limit), and no two may carry
			// the same, so a buyer has at most that many created orders.
			Keys:    bson.D{{Key: "holdSlot", Value: 1}},
			Options: options.Index().SetName("hold_slot_unique").SetUnique(true).SetSparse(true),
		},
		{
			Keys:    bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("buyer_newest"),
		},
		{
			Keys:    bson.D{{Key: "ticket.userId", Value: 1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("seller_newest"),
		},
		{
			Keys:    bson.D{{Key: "ticket.id", Value: 1}},
			Options: options.Index().SetName("ticket"),
		},
		{
			Keys:    bson.D{{Key: "grantsPending", Value: 1}},
			Options: options.Index().SetName("grants_pending").SetSparse(true),
		},
		{
			// The overdue-hold sweep: created orders by end of hold.
			Keys:    bson.D{{Key: "status", Value: 1}, {Key: "expiresAt", Value: 1}},
			Options: options.Index().SetName("status_expires"),
		},
	}
}

// orderDocument is an order as stored. activeTicketId, holdSlot and
// grantsPending exist only while true/active (omitempty), for their sparse
// indexes: a write of the whole document without them removes them.
type orderDocument struct {
	ID              string         `bson:"_id"`
	UserID          string         `bson:"userId"`
	Status          string         `bson:"status"`
	ExpiresAt       time.Time      `bson:"expiresAt"`
	Ticket          ticketSnapshot `bson:"ticket"`
	PaymentID       string         `bson:"paymentId,omitempty"`
	ActiveTicketID  string         `bson:"activeTicketId,omitempty"`
	HoldSlot        string         `bson:"holdSlot,omitempty"`
	Reserved        bool           `bson:"reserved,omitempty"`
	PendingPayment  string         `bson:"pendingPaymentId,omitempty"`
	RefundedPayment string         `bson:"refundedPaymentId,omitempty"`
	CancelReason    string         `bson:"cancelReason,omitempty"`
	GrantsPending   bool           `bson:"grantsPending,omitempty"`
	CreatedAt       time.Time      `bson:"createdAt"`
	docstore.Meta   `bson:",inline"`
}

type ticketSnapshot struct {
	ID       string `bson:"id"`
	Title    string `bson:"title"`
	Price    int64  `bson:"price"`
	Currency string `bson:"currency"`
	UserID   string `bson:"userId"`
	Version  int64  `bson:"version"`
}

// DocMeta implements docstore.Document.
func (d *orderDocument) DocMeta() *docstore.Meta { return &d.Meta }

// MongoOrderRepository stores orders with docstore: every write of an
// order is serialized and version-filtered, and carries its event in the
// same single-document write (the outbox the relay publishes).
type MongoOrderRepository struct {
	orders *docstore.Collection[orderDocument, *orderDocument]
}

var _ domain.Repository = (*MongoOrderRepository)(nil)

// NewMongoOrderRepository returns the repository on db, creating its
// indexes if they are missing (creating an existing index is a no-op).
// waker is told when a write stored events (the outbox relay); it may be
// nil.
func NewMongoOrderRepository(ctx context.Context, db *mongo.Database, waker docstore.Waker) (*MongoOrderRepository, error) {
	orders, err := docstore.Open[orderDocument](ctx, db.Collection(OrdersCollection), waker, orderIndexes()...)
	if err != nil {
		return nil, err
	}
	return &MongoOrderRepository{orders: orders}, nil
}

// Outbox is the store the outbox relay reads.
func (r *MongoOrderRepository) Outbox() events.OutboxStore { return r.orders }

// NextID implements domain.Repository: an ObjectId.
func (r *MongoOrderRepository) NextID() string { return primitive.NewObjectID().Hex() }

// Add implements domain.Repository. It inserts the order in one of the
// buyer's hold slots, trying each in turn until an insert succeeds: the
// unique indexes decide, nothing is counted first. The first slot tried
// follows from the order's id, so that a buyer holding many orders under a
// raised limit (a load test's) finds a free slot in about one try rather
// than after every taken one. FerretDB does not say which unique index
// refused an insert, so after a refusal Add asks whether an active order
// holds the ticket: if so the ticket is unavailable, else the slot was
// taken and the next one is tried. Either answer was true when read. The
// order.created event is held until GrantsDone (or the order's next
// write): consumers hear of the order once its tuples exist, and the
// relay's write that removes the event also clears the flag, one write
// fewer per order.
func (r *MongoOrderRepository) Add(ctx context.Context, o *domain.Order, maxHolds int) error {
	first := firstSlot(o.ID(), maxHolds)
	for i := range maxHolds {
		o.UseHoldSlot((first + i) % maxHolds)
		doc := toDocument(o)
		doc.GrantsPending = true
		if err := recordEvent(ctx, doc, events.OrderCreated); err != nil {
			return err
		}
		err := r.orders.InsertHeld(ctx, doc)
		if !errors.Is(err, docstore.ErrDuplicate) {
			return mongodb.Error(err)
		}
		held, err := r.ticketHeld(ctx, o.Ticket().ID)
		switch {
		case err != nil:
			return mongodb.Error(err)
		case held:
			return domain.ErrTicketUnavailable
		}
	}
	return domain.ErrTooManyHolds
}

// firstSlot spreads a buyer's orders over the slots by their ids.
func firstSlot(orderID string, maxHolds int) int {
	if maxHolds <= 0 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	return int(h.Sum32() % uint32(maxHolds))
}

// ticketHeld reports whether an active order holds the ticket.
func (r *MongoOrderRepository) ticketHeld(ctx context.Context, ticketID string) (bool, error) {
	err := r.orders.Mongo().FindOne(ctx, bson.D{{Key: "activeTicketId", Value: ticketID}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// Get implements domain.Repository.
func (r *MongoOrderRepository) Get(ctx context.Context, id string) (*domain.Order, error) {
	doc, err := r.orders.Get(ctx, id)
	if errors.Is(err, docstore.ErrNotFound) {
		return nil, domain.ErrOrderNotFound
	}
	if err != nil {
		return nil, mongodb.Error(err)
	}
	return fromDocument(doc), nil
}

// Update implements domain.Repository. The event of a change is named
// after the status it reached; a change that keeps the version
// (bookkeeping: the reservation confirmed, a payment kept until then) is
// written without an event. A
// change never re-activates an order or takes a hold slot, so the unique
// indexes cannot refuse it.
func (r *MongoOrderRepository) Update(ctx context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error) {
	doc, err := r.orders.Update(ctx, id, func(doc *orderDocument) error {
		o := fromDocument(doc)
		changed, err := change(o)
		if err != nil {
			return err
		}
		if !changed {
			return docstore.ErrUnchanged
		}
		next := toDocument(o)
		next.GrantsPending, next.Meta = doc.GrantsPending, doc.Meta
		bookkeeping := o.Version() == doc.Version
		next.Version = o.Version()
		*doc = *next
		if bookkeeping {
			return nil
		}
		name, ok := changeEvents[o.Status()]
		if !ok {
			return fmt.Errorf("order %s: no event for a change to %s", id, o.Status())
		}
		return recordEvent(ctx, doc, name)
	})
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		return nil, domain.ErrOrderNotFound
	case err != nil:
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, mongodb.Error(err)
	}
	return fromDocument(doc), nil
}

// changeEvents names the event of a change by the status it reaches.
var changeEvents = map[domain.Status]events.Name{
	domain.StatusCancelled: events.OrderCancelled,
	domain.StatusComplete:  events.OrderCompleted,
	domain.StatusRefunded:  events.OrderRefunded,
}

// List implements domain.Repository: newest first is by _id (ObjectIds
// rise with time), the keyset is the last id of the previous page.
func (r *MongoOrderRepository) List(ctx context.Context, q domain.ListQuery) ([]*domain.Order, error) {
	field := "userId"
	if q.Role == domain.RoleSeller {
		field = "ticket.userId"
	}
	filter := bson.D{{Key: field, Value: q.UserID}}
	if q.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.After}}})
	}
	return r.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(q.Limit)))
}

// GrantsDone implements domain.Repository: it releases the held
// order.created and clears the flag with the write that marks it published
// (docstore.Release), or at once through the serialized write path when
// nothing is held; without a version change or an event either way.
func (r *MongoOrderRepository) GrantsDone(ctx context.Context, id string) error {
	err := r.orders.Release(ctx, id, func(doc *orderDocument) error {
		if !doc.GrantsPending {
			return docstore.ErrUnchanged
		}
		doc.GrantsPending = false
		return nil
	})
	if errors.Is(err, docstore.ErrNotFound) {
		return domain.ErrOrderNotFound
	}
	return mongodb.Error(err)
}

// GrantsPending implements domain.Repository.
func (r *MongoOrderRepository) GrantsPending(ctx context.Context, cutoff time.Time, limit int) ([]*domain.Order, error) {
	filter := bson.D{{Key: "grantsPending", Value: true}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	return r.find(ctx, filter, options.Find().SetLimit(int64(limit)))
}

// OverdueHolds implements domain.Repository.
func (r *MongoOrderRepository) OverdueHolds(ctx context.Context, cutoff time.Time, limit int) ([]*domain.Order, error) {
	filter := bson.D{{Key: "status", Value: string(domain.StatusCreated)}, {Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	return r.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "expiresAt", Value: 1}}).SetLimit(int64(limit)))
}

func (r *MongoOrderRepository) find(ctx context.Context, filter bson.D, opts *options.FindOptions) ([]*domain.Order, error) {
	cur, err := r.orders.Mongo().Find(ctx, filter, opts.SetProjection(bson.D{{Key: "outbox", Value: 0}}))
	if err != nil {
		return nil, mongodb.Error(err)
	}
	var docs []orderDocument
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mongodb.Error(err)
	}
	out := make([]*domain.Order, len(docs))
	for i := range docs {
		out[i] = fromDocument(&docs[i])
	}
	return out, nil
}

// recordEvent adds the order's event, its whole state, to the outbox.
func recordEvent(ctx context.Context, doc *orderDocument, name events.Name) error {
	e, err := events.New(name, orderEvent(doc), events.Meta{CorrelationID: correlationID(ctx)})
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

func orderEvent(doc *orderDocument) events.Order {
	return events.Order{
		ID: doc.ID, UserID: doc.UserID, Status: doc.Status, ExpiresAt: doc.ExpiresAt, PaymentID: doc.PaymentID,
		CancelReason: doc.CancelReason,
		Ticket: events.OrderTicket{
			ID: doc.Ticket.ID, Title: doc.Ticket.Title, Price: doc.Ticket.Price,
			Currency: doc.Ticket.Currency, UserID: doc.Ticket.UserID, Version: doc.Ticket.Version,
		},
		Version: doc.Version,
	}
}

func toDocument(o *domain.Order) *orderDocument {
	st, t := o.State(), o.Ticket()
	doc := &orderDocument{
		ID: st.ID, UserID: st.BuyerID, Status: string(st.Status), ExpiresAt: st.ExpiresAt,
		Ticket:    ticketSnapshot{ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency, UserID: t.SellerID, Version: t.Version},
		PaymentID: st.PaymentID, ActiveTicketID: o.ActiveTicketID(), HoldSlot: o.HoldKey(),
		Reserved: st.Reserved, PendingPayment: st.PendingPayment, RefundedPayment: st.RefundedPayment,
		CancelReason: st.CancelReason, CreatedAt: st.CreatedAt,
	}
	doc.Version = st.Version
	return doc
}

func fromDocument(d *orderDocument) *domain.Order {
	t := d.Ticket
	return domain.RestoreOrder(domain.State{
		ID: d.ID, BuyerID: d.UserID, Status: domain.Status(d.Status),
		Ticket:    domain.TicketSnapshot{ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency, SellerID: t.UserID, Version: t.Version},
		ExpiresAt: d.ExpiresAt, CreatedAt: d.CreatedAt, PaymentID: d.PaymentID, Version: d.Version,
		Reserved: d.Reserved, PendingPayment: d.PendingPayment, RefundedPayment: d.RefundedPayment,
		CancelReason: d.CancelReason, HoldSlot: holdSlotOf(d.HoldSlot),
	})
}

// holdSlotOf is the slot number of a hold key "<buyer>:<k>"; 0 for none
// (a slot matters only while the key is stored).
func holdSlotOf(key string) int {
	k, _ := strconv.Atoi(key[strings.LastIndexByte(key, ':')+1:])
	return k
}
