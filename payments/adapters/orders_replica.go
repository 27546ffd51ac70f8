package adapters

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// OrdersCollection holds payments' copy of the orders.
// WARNING: a stored name; renaming it orphans existing data.
const OrdersCollection = "orders"

// orderDocument is what payments keeps of an order.* event: the buyer, the
// seller, the status, the price and its currency, and the version.
type orderDocument struct {
	ID       string `bson:"_id"`
	UserID   string `bson:"userId"`
	SellerID string `bson:"sellerId"`
	Status   string `bson:"status"`
	Amount   int64  `bson:"amount"`
	Currency string `bson:"currency"`
	Version  int64  `bson:"version"`
}

// MongoOrderReplica keeps the orders with docstore.Replica: one
// conditional write per event, applied only if newer.
type MongoOrderReplica struct {
	orders *docstore.Replica[orderDocument]
}

var _ domain.OrderReplica = (*MongoOrderReplica)(nil)

// NewMongoOrderReplica returns the replica on db. Its only index is _id.
func NewMongoOrderReplica(db *mongo.Database) *MongoOrderReplica {
	return &MongoOrderReplica{orders: docstore.NewReplica[orderDocument](db.Collection(OrdersCollection))}
}

// Apply implements domain.OrderReplica.
func (r *MongoOrderReplica) Apply(ctx context.Context, o domain.Order) (bool, error) {
	doc := orderDocument{
		ID: o.ID, UserID: o.BuyerID, SellerID: o.SellerID, Status: string(o.Status),
		Amount: o.Amount, Currency: o.Currency, Version: o.Version,
	}
	applied, err := r.orders.Apply(ctx, o.ID, o.Version, &doc)
	return applied, mongodb.Error(err)
}

// Get implements domain.OrderReplica.
func (r *MongoOrderReplica) Get(ctx context.Context, id string) (domain.Order, error) {
	doc, err := r.orders.Get(ctx, id)
	if errors.Is(err, docstore.ErrNotFound) {
		return domain.Order{}, domain.ErrOrderNotFound
	}
	if err != nil {
		return domain.Order{}, mongodb.Error(err)
	}
	return domain.Order{
		ID: doc.ID, BuyerID: doc.UserID, SellerID: doc.SellerID, Status: domain.OrderStatus(doc.Status),
		Amount: doc.Amount, Currency: doc.Currency, Version: doc.Version,
	}, nil
}
