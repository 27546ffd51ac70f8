package domain

import "fmt"

// OrderEventKind is what happened to an order that affects its ticket.
type OrderEventKind int

// The order events a ticket reacts to (design §3).
const (
	// OrderCreated: the order holds the ticket for its buyer.
	OrderCreated OrderEventKind = iota + 1
	// OrderCancelled: the buyer cancelled, or the hold window ended.
	OrderCancelled
	// OrderCompleted: the order was paid.
	OrderCompleted
	// OrderRefunded: a completed order was refunded.
	OrderRefunded
)

// String names the kind for logs.
func (k OrderEventKind) String() string {
	switch k {
	case OrderCreated:
		return "created"
	case OrderCancelled:
		return "cancelled"
	case OrderCompleted:
		return "completed"
	case OrderRefunded:
		return "refunded"
	}
	return fmt.Sprintf("OrderEventKind(%d)", int(k))
}

// OrderEvent is an order's change, as the ticket it is for sees it: the
// order's id and the order's version after the change.
type OrderEvent struct {
	Kind         OrderEventKind
	OrderID      string
	OrderVersion int64
}

// ApplyOrder applies an order event so that redelivered and reordered events
// end in the right state:
//
//   - an event of an order version this ticket has already seen (the same or
//     a newer one) is ErrNoChange: a duplicate or an older event;
//   - created reserves an available ticket for the order; a ticket that the
//     order already holds stays as it is;
//   - cancelled and refunded make the ticket available again, only if that
//     very order holds it;
//   - completed sells the ticket to the order if the order holds it or it is
//     available (the created event may arrive later, and is then older);
//   - created and completed for a ticket another order holds are
//     ErrHeldByAnotherOrder, a transient state to retry: the other order's
//     cancellation has not been applied yet. The event is not recorded as
//     seen.
//
// Otherwise the order's version is recorded as seen (even when the ticket
// did not change, e.g. cancelled before created), and the ticket's version
// goes up by one if its state changed.
func (t *Ticket) ApplyOrder(e OrderEvent) error {
	if seen, ok := t.seenOrders[e.OrderID]; ok && seen >= e.OrderVersion {
		return ErrNoChange
	}
	heldByIt := t.orderID == e.OrderID
	switch e.Kind {
	case OrderCreated:
		switch {
		case t.status == StatusAvailable:
			t.hold(StatusReserved, e.OrderID)
		case !heldByIt:
			return t.heldByAnother(e)
		}
	case OrderCompleted:
		switch {
		case heldByIt && t.status == StatusSold:
		case heldByIt || t.status == StatusAvailable:
			t.hold(StatusSold, e.OrderID)
		default:
			return t.heldByAnother(e)
		}
	case OrderCancelled, OrderRefunded:
		if heldByIt {
			t.status, t.orderID = StatusAvailable, ""
			t.version++
		}
	default:
		return fmt.Errorf("ticket %s: unknown order event kind %v", t.id, e.Kind)
	}
	t.seenOrders[e.OrderID] = e.OrderVersion
	return nil
}

func (t *Ticket) hold(status Status, orderID string) {
	t.status, t.orderID = status, orderID
	t.version++
}

func (t *Ticket) heldByAnother(e OrderEvent) error {
	return fmt.Errorf("%w: ticket %s is %s for order %s; order %s (%s, version %d) waits",
		ErrHeldByAnotherOrder, t.id, t.status, t.orderID, e.OrderID, e.Kind, e.OrderVersion)
}

// SeenOrderVersion is the newest version of the order this ticket has
// applied, and whether it has applied any.
func (t *Ticket) SeenOrderVersion(orderID string) (int64, bool) {
	v, ok := t.seenOrders[orderID]
	return v, ok
}
