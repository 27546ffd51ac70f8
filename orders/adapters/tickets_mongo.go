package adapters

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// TicketsCollection holds orders' copy of the tickets.
// WARNING: a stored name; renaming it orphans existing data.
const TicketsCollection = "tickets"

// ticketDocument is a ticket as the replica stores it: the whole state of
// a ticket.* event, with its version.
type ticketDocument struct {
	ID       string `bson:"_id"`
	Title    string `bson:"title"`
	Price    int64  `bson:"price"`
	Currency string `bson:"currency"`
	UserID   string `bson:"userId"`
	Status   string `bson:"status"`
	OrderID  string `bson:"orderId,omitempty"`
	Version  int64  `bson:"version"`
}

// MongoTicketReplica keeps the tickets with docstore.Replica: one
// conditional write per event, applied only if newer.
type MongoTicketReplica struct {
	tickets *docstore.Replica[ticketDocument]
}

var _ domain.TicketReplica = (*MongoTicketReplica)(nil)

// NewMongoTicketReplica returns the replica on db. Its only index is _id.
func NewMongoTicketReplica(db *mongo.Database) *MongoTicketReplica {
	return &MongoTicketReplica{tickets: docstore.NewReplica[ticketDocument](db.Collection(TicketsCollection))}
}

// Apply implements domain.TicketReplica.
func (r *MongoTicketReplica) Apply(ctx context.Context, t domain.Ticket) (bool, error) {
	doc := ticketDocument{
		ID: t.ID, Title: t.Title, Price: t.Price, Currency: t.Currency,
		UserID: t.SellerID, Status: t.Status, OrderID: t.OrderID, Version: t.Version,
	}
	applied, err := r.tickets.Apply(ctx, t.ID, t.Version, &doc)
	return applied, mongodb.Error(err)
}

// Get implements domain.TicketReplica.
func (r *MongoTicketReplica) Get(ctx context.Context, id string) (domain.Ticket, error) {
	doc, err := r.tickets.Get(ctx, id)
	if errors.Is(err, docstore.ErrNotFound) {
		return domain.Ticket{}, domain.ErrTicketNotFound
	}
	if err != nil {
		return domain.Ticket{}, mongodb.Error(err)
	}
	return domain.Ticket{
		ID: doc.ID, Title: doc.Title, Price: doc.Price, Currency: doc.Currency,
		SellerID: doc.UserID, Status: doc.Status, OrderID: doc.OrderID, Version: doc.Version,
	}, nil
}
