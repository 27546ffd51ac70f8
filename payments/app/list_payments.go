package app

import (
	"context"

	"github.com/ticketing/ticketing/payments/domain"
)

// ListPayments asks for a page of the payments in one status, newest first.
type ListPayments struct {
	UserID string
	Status domain.Status
	Limit  int
	// After is the id of the last payment of the previous page.
	After string
}

// ListPaymentsHandler lists payments by status for admins: the payments
// held for review are what they look for.
type ListPaymentsHandler struct {
	payments domain.Repository
	perms    Permissions
}

// NewListPaymentsHandler returns the use case.
func NewListPaymentsHandler(payments domain.Repository, perms Permissions) ListPaymentsHandler {
	return ListPaymentsHandler{payments: payments, perms: perms}
}

// Handle returns the page; a caller who is not an admin gets
// ErrAdminRequired.
func (h ListPaymentsHandler) Handle(ctx context.Context, q ListPayments) ([]*domain.Payment, error) {
	admin, err := h.perms.IsAdmin(ctx, q.UserID)
	if err != nil {
		return nil, err
	}
	if !admin {
		return nil, domain.ErrAdminRequired
	}
	return h.payments.List(ctx, domain.ListQuery{Status: q.Status, Limit: q.Limit, After: q.After})
}
