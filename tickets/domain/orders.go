package domain

import "fmt"

// OrderEventKind is what happened to an order that affects its ticket.
type OrderEventKind int

// The order events a ticket reacts to (docs/architecture.md, "Events").
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
// order's id, the order's version after the change, and the price and
// currency the order pinned when it was created (what its buyer pays).
type OrderEvent struct {
	Kind         OrderEventKind
	OrderID      string
	OrderVersion int64
	Price        int64
	Currency     string
}

// MaxSeenOrders bounds how many orders a ticket remembers (seenOrders).
// When more have been seen, the oldest ids (ObjectIds rise with time) are
// forgotten and the newest forgotten id becomes the floor: an order at or
// below it that the ticket does not remember counts as seen.
const MaxSeenOrders = 16

// RefusalPriceChanged is why a ticket refuses to be reserved for an order
// whose pinned price or currency is no longer the ticket's.
const RefusalPriceChanged = "price_changed"

// Refusal is an order the ticket refused to be reserved for, and why.
type Refusal struct {
	OrderID      string
	OrderVersion int64
	Reason       string
}

// ApplyOrder applies an order event so that redelivered and reordered events
// end in the right state, and the ticket is never held at a price other
// than the order's:
//
//   - an event of an order version this ticket has already seen (the same or
//     a newer one), or of a forgotten order (see MaxSeenOrders), is
//     ErrNoChange: a duplicate or an older event;
//   - created reserves an available ticket for the order only if the order
//     pinned the ticket's current price and currency; otherwise the
//     ticket stays as it is and the order is refused (Refusal, reason
//     RefusalPriceChanged), so that the orders service cancels it before it
//     can complete. A ticket that the order already holds stays as it is;
//   - created for a ticket another order holds, at the right price, is
//     ErrHeldByAnotherOrder, a transient state to retry: the other order's
//     cancellation has not been applied yet. The event is not recorded as
//     seen;
//   - completed sells the ticket to the order if the order holds it, or
//     if it is available and the order pinned its current price (the
//     created event may be redelivered later, and is then older). An
//     available ticket at another price is ErrSoldAtAnotherPrice: never
//     sold, the event ends in the dead-letter queue for an operator (the
//     orders service completes an order only once its ticket was reserved
//     for it, so this does not happen); held by another order it is
//     ErrHeldByAnotherOrder, retried as for created;
//   - cancelled and refunded make the ticket available again, only if that
//     very order holds it.
//
// Otherwise the order's version is recorded as seen (even when the ticket
// did not change, e.g. cancelled before created), and the ticket's version
// goes up by one if its state changed. A refusal and a seen order keep the
// version. The comparison and the reservation are one decision on one
// version of the ticket: the store writes the result only if the ticket did
// not change meanwhile (a seller's edit included), else it decides again.
func (t *Ticket) ApplyOrder(e OrderEvent) error {
	t.refusal = nil
	if seen, ok := t.seenOrders[e.OrderID]; (ok && seen >= e.OrderVersion) || (!ok && e.OrderID <= t.seenFloor) {
		return ErrNoChange
	}
	heldByIt := t.orderID == e.OrderID
	switch e.Kind {
	case OrderCreated:
		switch {
		case heldByIt:
		case !t.pricedAs(e):
			t.refusal = &Refusal{OrderID: e.OrderID, OrderVersion: e.OrderVersion, Reason: RefusalPriceChanged}
		case t.status == StatusAvailable:
			t.hold(StatusReserved, e.OrderID)
		default:
			return t.heldByAnother(e)
		}
	case OrderCompleted:
		switch {
		case heldByIt && t.status == StatusSold:
		case heldByIt || (t.status == StatusAvailable && t.pricedAs(e)):
			t.hold(StatusSold, e.OrderID)
		case t.status == StatusAvailable:
			return fmt.Errorf("%w: ticket %s costs %d %s, order %s was paid at %d %s",
				ErrSoldAtAnotherPrice, t.id, t.price, t.currency, e.OrderID, e.Price, e.Currency)
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
	t.remember(e.OrderID, e.OrderVersion)
	return nil
}

// remember records the order's version as seen and keeps at most
// MaxSeenOrders orders, forgetting the oldest ids first but never the
// order holding the ticket, and raising the floor to what it forgot.
func (t *Ticket) remember(orderID string, version int64) {
	t.seenOrders[orderID] = version
	for len(t.seenOrders) > MaxSeenOrders {
		oldest := ""
		for id := range t.seenOrders {
			if id != t.orderID && (oldest == "" || id < oldest) {
				oldest = id
			}
		}
		delete(t.seenOrders, oldest)
		t.seenFloor = max(t.seenFloor, oldest)
	}
}

// pricedAs reports whether the order pinned the ticket's current price
// and currency.
func (t *Ticket) pricedAs(e OrderEvent) bool {
	return e.Price == t.price && e.Currency == t.currency
}

func (t *Ticket) hold(status Status, orderID string) {
	t.status, t.orderID = status, orderID
	t.version++
}

func (t *Ticket) heldByAnother(e OrderEvent) error {
	return fmt.Errorf("%w: ticket %s is %s for order %s; order %s (%s, version %d) waits",
		ErrHeldByAnotherOrder, t.id, t.status, t.orderID, e.OrderID, e.Kind, e.OrderVersion)
}

// Refusal is the order the last ApplyOrder refused to reserve the ticket
// for, if it refused one: the store publishes it with the write.
func (t *Ticket) Refusal() (Refusal, bool) {
	if t.refusal == nil {
		return Refusal{}, false
	}
	return *t.refusal, true
}

// SeenOrderVersion is the newest version of the order this ticket has
// applied, and whether it has applied any.
func (t *Ticket) SeenOrderVersion(orderID string) (int64, bool) {
	v, ok := t.seenOrders[orderID]
	return v, ok
}
