// Package adapters implements the tickets service's outbound ports: the
// ticket store (Mongo through pkg/docstore, and an in-memory twin for
// tests) and permissions (Keto).
package adapters

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/events"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/tickets/domain"
)

// ticketDocument is a ticket as stored: flat fields written whole, _id the
// ObjectId as a string, the outbox inline.
//
// WARNING: the bson names are stored data and index keys; renaming one
// orphans existing documents.
type ticketDocument struct {
	ID     string `bson:"_id"`
	UserID string `bson:"userId"`
	Title  string `bson:"title"`
	// TitleKey is the lower-cased title that searches match against.
	TitleKey  string    `bson:"titleLower"`
	Price     int64     `bson:"price"`
	Currency  string    `bson:"currency"`
	Status    string    `bson:"status"`
	OrderID   string    `bson:"orderId,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	// SeenOrders maps order ids to the newest order version applied.
	SeenOrders map[string]int64 `bson:"seenOrders,omitempty"`
	// SeenFloor is the newest order id forgotten from SeenOrders.
	SeenFloor string `bson:"seenOrdersFloor,omitempty"`
	// GrantsPending is set from the insert until the ticket's Keto tuples
	// are written (see app.CreateTicketHandler); absent afterwards.
	GrantsPending bool `bson:"grantsPending,omitempty"`
	docstore.Meta `bson:",inline"`
}

// DocMeta implements docstore.Document.
func (d *ticketDocument) DocMeta() *docstore.Meta { return &d.Meta }

// set copies the ticket's state into the document, keeping the outbox and
// the grants flag.
func (d *ticketDocument) set(t *domain.Ticket) {
	s := t.Snapshot()
	d.ID, d.UserID, d.Title, d.TitleKey = s.ID, s.SellerID, s.Title, domain.SearchKey(s.Title)
	d.Price, d.Currency, d.Status, d.OrderID = s.Price, s.Currency, string(s.Status), s.OrderID
	d.CreatedAt, d.SeenOrders, d.SeenFloor, d.Version = s.CreatedAt, s.SeenOrders, s.SeenFloor, s.Version
	if len(d.SeenOrders) == 0 {
		d.SeenOrders = nil
	}
}

// ticket restores the domain ticket.
func (d *ticketDocument) ticket() (*domain.Ticket, error) {
	return domain.Restore(domain.Snapshot{
		ID: d.ID, SellerID: d.UserID, Title: d.Title, Price: d.Price, Currency: d.Currency,
		Status: domain.Status(d.Status), OrderID: d.OrderID, Version: d.Version,
		CreatedAt: d.CreatedAt, SeenOrders: d.SeenOrders, SeenFloor: d.SeenFloor,
	})
}

// payload is the ticket.* event data: the whole state and its version.
func (d *ticketDocument) payload() events.Ticket {
	return events.Ticket{
		ID: d.ID, Title: d.Title, Price: d.Price, Currency: d.Currency, UserID: d.UserID,
		Status: d.Status, OrderID: d.OrderID, Version: d.Version,
	}
}

// record adds the event that describes the document's current state.
func (d *ticketDocument) record(ctx context.Context, name events.Name) error {
	e, err := events.New(name, d.payload(), eventMeta(ctx))
	if err != nil {
		return apierr.Internal(fmt.Errorf("ticket %s: %w", d.ID, err))
	}
	d.Record(e)
	return nil
}

// refusalReasons spells the domain's refusal reasons as the event does.
var refusalReasons = map[string]string{domain.RefusalPriceChanged: events.RefusalPriceChanged}

// recordRefusal adds ticket.reservation_refused.v1 for an order the ticket
// refused, with the ticket as it is.
func (d *ticketDocument) recordRefusal(ctx context.Context, r domain.Refusal) error {
	e, err := events.New(events.TicketReservationRefused, events.ReservationRefusal{
		OrderID: r.OrderID, OrderVersion: r.OrderVersion, Ticket: d.payload(), Reason: refusalReasons[r.Reason],
	}, eventMeta(ctx))
	if err != nil {
		return apierr.Internal(fmt.Errorf("ticket %s: %w", d.ID, err))
	}
	d.Record(e)
	return nil
}

// eventMeta passes the request's correlation id (else its request id) on
// to the events it causes.
func eventMeta(ctx context.Context) events.Meta {
	id := logging.CorrelationID(ctx)
	if id == "" {
		id = logging.RequestID(ctx)
	}
	return events.Meta{CorrelationID: id}
}
