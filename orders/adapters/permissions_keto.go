package adapters

import (
	"context"

	"github.com/ticketing/ticketing/orders/app"
	"github.com/ticketing/ticketing/orders/domain"
	"github.com/ticketing/ticketing/pkg/keto"
)

// Keto namespaces and relations of ory/keto/namespaces.keto.ts.
// WARNING: a contract with the policy file and the stored tuples.
const (
	ticketNamespace = "Ticket"
	orderNamespace  = "Order"
)

// KetoPermissions asks Keto (docs/architecture.md, "Permissions").
type KetoPermissions struct {
	keto *keto.Client
}

var _ app.Permissions = KetoPermissions{}

// NewKetoPermissions returns the permissions on client.
func NewKetoPermissions(client *keto.Client) KetoPermissions {
	return KetoPermissions{keto: client}
}

// CanOrderTicket implements app.Permissions.
func (k KetoPermissions) CanOrderTicket(ctx context.Context, userID, ticketID string) (bool, error) {
	return k.keto.Check(ctx, ticketNamespace, ticketID, "order", keto.User(userID))
}

// CanViewOrder implements app.Permissions.
func (k KetoPermissions) CanViewOrder(ctx context.Context, userID, orderID string) (bool, error) {
	return k.keto.Check(ctx, orderNamespace, orderID, "view", keto.User(userID))
}

// CanEditOrder implements app.Permissions.
func (k KetoPermissions) CanEditOrder(ctx context.Context, userID, orderID string) (bool, error) {
	return k.keto.Check(ctx, orderNamespace, orderID, "edit", keto.User(userID))
}

// GrantOrder implements app.Permissions: the buyer owns the order, its
// ticket is its parent (so the seller may view it), and the admins.
func (k KetoPermissions) GrantOrder(ctx context.Context, o *domain.Order) error {
	return k.keto.WriteTuples(ctx, OrderTuples(o)...)
}

// OrderTuples are the tuples of an order.
func OrderTuples(o *domain.Order) []keto.Tuple {
	return []keto.Tuple{
		{Namespace: orderNamespace, Object: o.ID(), Relation: "owners", Subject: keto.User(o.BuyerID())},
		{Namespace: orderNamespace, Object: o.ID(), Relation: "parents", Subject: keto.Subject{Namespace: ticketNamespace, Object: o.Ticket().ID}},
		{Namespace: orderNamespace, Object: o.ID(), Relation: "admins", Subject: keto.AdminGroup()},
	}
}
