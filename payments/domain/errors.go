package domain

import (
	"errors"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// The rule violations a client can act on; one apierr.Error each, so the
// HTTP edge maps them without knowing the domain.
var (
	// ErrOrderNotPayable: the order is cancelled (expired included),
	// complete or refunded.
	ErrOrderNotPayable = apierr.Conflict("order_not_payable", "the order cannot be paid: it is cancelled, expired, complete or refunded")
	// ErrOrderPaid: the order already has a payment that succeeded.
	ErrOrderPaid = apierr.Conflict("order_paid", "the order is already paid")
	// ErrNotRefundable: only a succeeded payment can be refunded.
	ErrNotRefundable = apierr.Conflict("payment_not_refundable", "only a succeeded payment can be refunded; this one is pending, failed or already refunded")
	// ErrOrderNotComplete: a refund asked before the payment's order
	// completed (Order.RefundableOnRequest).
	ErrOrderNotComplete = apierr.Conflict("order_not_complete", "the order is not complete yet: cancel it (DELETE /api/orders/{id}) and its payment is refunded")
	// ErrPaymentNotFound: unknown, or not visible to the caller.
	ErrPaymentNotFound = apierr.NotFound("payment_not_found", "no such payment")
	// ErrOrderNotFound: unknown, or not visible to the caller.
	ErrOrderNotFound = apierr.NotFound("order_not_found", "no such order")
	// ErrNotOrderBuyer: the caller may see the order (its seller) but only
	// its buyer pays it.
	ErrNotOrderBuyer = apierr.Forbidden("not_order_buyer", "only the buyer of the order can pay it")
	// ErrRefundForbidden: the caller may see the payment but not refund it.
	ErrRefundForbidden = apierr.Forbidden("refund_forbidden", "only the buyer or an admin can refund this payment")
	// ErrPaymentInReview: Stripe's report did not match the payment; only
	// an admin's resolution moves it on.
	ErrPaymentInReview = apierr.Conflict("payment_in_review", "the payment is held for review; an admin resolves it (POST /api/payments/{id}/resolve)")
	// ErrNotInReview: only a payment held for review can be resolved.
	ErrNotInReview = apierr.Conflict("payment_not_in_review", "the payment is not held for review")
	// ErrResolveForbidden: the caller may see the payment but only admins
	// resolve it.
	ErrResolveForbidden = apierr.Forbidden("resolve_forbidden", "only an admin can resolve a payment held for review")
	// ErrAdminRequired: the list of payments by status is for admins.
	ErrAdminRequired = apierr.Forbidden("admin_required", "only admins can list payments by status")
)

// ErrPaymentExists is the store's answer to a second payment for an order
// (the unique index on orderId); the use case answers the existing one, so
// it never reaches a client.
var ErrPaymentExists = errors.New("domain: the order already has a payment")
