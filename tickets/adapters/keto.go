package adapters

import (
	"context"

	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/tickets/app"
)

// Keto names of the Ticket namespace (ory/keto/namespaces.keto.ts).
// WARNING: stored in Keto's tuples; renaming one orphans existing grants.
const (
	ticketNamespace = "Ticket"
	ownersRelation  = "owners"
	adminsRelation  = "admins"
	editPermission  = "edit"
)

// Relationships is the part of a Keto client that permissions need.
type Relationships interface {
	WriteTuples(ctx context.Context, tuples ...keto.Tuple) error
	Check(ctx context.Context, namespace, object, relation string, subject keto.Subject) (bool, error)
}

var _ Relationships = (*keto.Client)(nil)

// KetoPermissions keeps tickets' permissions in Keto.
type KetoPermissions struct {
	keto Relationships
}

var _ app.Permissions = KetoPermissions{}

// NewKetoPermissions returns permissions kept in k.
func NewKetoPermissions(k Relationships) KetoPermissions {
	return KetoPermissions{keto: k}
}

// GrantTicket writes the seller's ownership and the admin group's relation
// in one call.
func (p KetoPermissions) GrantTicket(ctx context.Context, ticketID, sellerID string) error {
	return p.keto.WriteTuples(ctx,
		keto.Tuple{Namespace: ticketNamespace, Object: ticketID, Relation: ownersRelation, Subject: keto.User(sellerID)},
		keto.Tuple{Namespace: ticketNamespace, Object: ticketID, Relation: adminsRelation, Subject: keto.AdminGroup()},
	)
}

// CanEditTicket checks Ticket:<id>#edit for User:<userID>.
func (p KetoPermissions) CanEditTicket(ctx context.Context, ticketID, userID string) (bool, error) {
	return p.keto.Check(ctx, ticketNamespace, ticketID, editPermission, keto.User(userID))
}
