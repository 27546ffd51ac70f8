package adapters

import (
	"context"

	"github.com/ticketing/ticketing/payments/app"
	"github.com/ticketing/ticketing/payments/domain"
	"github.com/ticketing/ticketing/pkg/keto"
)

// Keto namespaces and relations of ory/keto/namespaces.keto.ts.
// WARNING: a contract with the policy file and the stored tuples.
const (
	orderNamespace   = "Order"
	paymentNamespace = "Payment"
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

// CanEditOrder implements app.Permissions.
func (k KetoPermissions) CanEditOrder(ctx context.Context, userID, orderID string) (bool, error) {
	return k.keto.Check(ctx, orderNamespace, orderID, "edit", keto.User(userID))
}

// CanViewOrder implements app.Permissions.
func (k KetoPermissions) CanViewOrder(ctx context.Context, userID, orderID string) (bool, error) {
	return k.keto.Check(ctx, orderNamespace, orderID, "view", keto.User(userID))
}

// CanViewPayment implements app.Permissions.
func (k KetoPermissions) CanViewPayment(ctx context.Context, userID, paymentID string) (bool, error) {
	return k.keto.Check(ctx, paymentNamespace, paymentID, "view", keto.User(userID))
}

// CanRefundPayment implements app.Permissions.
func (k KetoPermissions) CanRefundPayment(ctx context.Context, userID, paymentID string) (bool, error) {
	return k.keto.Check(ctx, paymentNamespace, paymentID, "refund", keto.User(userID))
}

// IsAdmin implements app.Permissions: membership of the admin group, the
// subject set every resource's admins relation points to.
func (k KetoPermissions) IsAdmin(ctx context.Context, userID string) (bool, error) {
	g := keto.AdminGroup()
	return k.keto.Check(ctx, g.Namespace, g.Object, g.Relation, keto.User(userID))
}

// GrantPayment implements app.Permissions.
func (k KetoPermissions) GrantPayment(ctx context.Context, p *domain.Payment) error {
	return k.keto.WriteTuples(ctx, PaymentTuples(p)...)
}

// PaymentTuples are the tuples of a payment: the buyer owns it, its order
// is its parent (so whoever may view the order may view the payment), and
// the admins.
func PaymentTuples(p *domain.Payment) []keto.Tuple {
	return []keto.Tuple{
		{Namespace: paymentNamespace, Object: p.ID(), Relation: "owners", Subject: keto.User(p.UserID())},
		{Namespace: paymentNamespace, Object: p.ID(), Relation: "parents", Subject: keto.Subject{Namespace: orderNamespace, Object: p.OrderID()}},
		{Namespace: paymentNamespace, Object: p.ID(), Relation: "admins", Subject: keto.AdminGroup()},
	}
}
