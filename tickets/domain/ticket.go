// Package domain holds the tickets service's model: a ticket a seller lists,
// the rules its fields must meet, and how the orders placed on it reserve,
// sell and release it. It knows nothing of HTTP, Mongo or AMQP.
package domain

import (
	"context"
	"maps"
	"time"
)

// Status is where a ticket is in its life: available → reserved (an active
// order holds it) → sold (that order completed), or back to available (the
// order was cancelled or refunded).
type Status string

// The statuses.
const (
	StatusAvailable Status = "available"
	StatusReserved  Status = "reserved"
	StatusSold      Status = "sold"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	return s == StatusAvailable || s == StatusReserved || s == StatusSold
}

// Ticket is a ticket for sale. Its fields change only through its methods,
// each of which keeps the invariants: a valid title, price and currency; an
// order id exactly while reserved or sold; the version raised by one per
// change.
type Ticket struct {
	id        string
	sellerID  string
	title     string
	price     int64
	currency  string
	status    Status
	orderID   string
	version   int64
	createdAt time.Time
	// seenOrders maps an order id to the newest version of that order this
	// ticket has applied, so a duplicate or older order event changes
	// nothing whatever the delivery order; at most MaxSeenOrders of them.
	seenOrders map[string]int64
	// seenFloor is the newest order id forgotten from seenOrders: an
	// order not in seenOrders whose id is not above it counts as seen.
	seenFloor string
	// refusal is the order the last ApplyOrder refused, not stored.
	refusal *Refusal
}

// Listing is a seller's input for a new ticket. A nil Price was not given;
// an empty Currency means DefaultCurrency.
type Listing struct {
	Title    string
	Price    *int64
	Currency string
}

// NewTicket returns an available ticket at version 0, listed by sellerID
// (a Kratos identity id), with the given id (a 24-hex-digit ObjectId). It
// reports every problem of the listing at once, each naming its field.
func NewTicket(id, sellerID string, l Listing, createdAt time.Time) (*Ticket, error) {
	title, price, currency := normalizeTitle(l.Title), l.Price, l.Currency
	if currency == "" {
		currency = DefaultCurrency
	}
	problems := collect(
		check("title", titleProblem(title)),
		check("price", requiredPriceProblem(price)),
		check("currency", currencyProblem(currency)),
	)
	if err := problems.err(); err != nil {
		return nil, err
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if sellerID == "" {
		return nil, errNoSeller
	}
	return &Ticket{
		id:         id,
		sellerID:   sellerID,
		title:      title,
		price:      *price,
		currency:   currency,
		status:     StatusAvailable,
		createdAt:  createdAt.UTC(),
		seenOrders: map[string]int64{},
	}, nil
}

// ID is the ticket's ObjectId, 24 lower-case hex digits.
func (t *Ticket) ID() string { return t.id }

// SellerID is the Kratos identity id of the user who listed the ticket.
func (t *Ticket) SellerID() string { return t.sellerID }

// Title is the trimmed title.
func (t *Ticket) Title() string { return t.title }

// Price is the price in the currency's minor units (2500 = 25.00 eur).
func (t *Ticket) Price() int64 { return t.price }

// Currency is the lower-case ISO 4217 code of the price.
func (t *Ticket) Currency() string { return t.currency }

// Status is the ticket's status.
func (t *Ticket) Status() Status { return t.status }

// OrderID is the order holding the ticket while reserved or sold, else "".
func (t *Ticket) OrderID() string { return t.orderID }

// Version is 0 when listed and raised by one per change.
func (t *Ticket) Version() int64 { return t.version }

// CreatedAt is when the ticket was listed, UTC.
func (t *Ticket) CreatedAt() time.Time { return t.createdAt }

// Repository stores tickets. Every change to a stored ticket goes through
// Update, which applies it to the current state and writes it in one
// conditional single-document write (never read-then-write elsewhere), with
// the event that describes it.
type Repository interface {
	// Add stores a new ticket; its id must be unused.
	Add(ctx context.Context, t *Ticket) error
	// Get returns the ticket with id, or ErrTicketNotFound.
	Get(ctx context.Context, id string) (*Ticket, error)
	// Update applies fn to the current ticket and stores the result. When
	// fn returns ErrNoChange nothing is written and Update returns the
	// ticket as it is; any other error of fn is returned as it is. A
	// missing ticket is ErrTicketNotFound.
	Update(ctx context.Context, id string, fn func(*Ticket) error) (*Ticket, error)
}

// Snapshot is a ticket's whole state, for storing and restoring it. It is a
// copy: changing it does not change the ticket.
type Snapshot struct {
	ID         string
	SellerID   string
	Title      string
	Price      int64
	Currency   string
	Status     Status
	OrderID    string
	Version    int64
	CreatedAt  time.Time
	SeenOrders map[string]int64
	SeenFloor  string
}

// Snapshot returns the ticket's state.
func (t *Ticket) Snapshot() Snapshot {
	return Snapshot{
		ID: t.id, SellerID: t.sellerID, Title: t.title, Price: t.price, Currency: t.currency,
		Status: t.status, OrderID: t.orderID, Version: t.version, CreatedAt: t.createdAt,
		SeenOrders: maps.Clone(t.seenOrders), SeenFloor: t.seenFloor,
	}
}

// Restore rebuilds a stored ticket. It checks the invariants a stored ticket
// must meet (not the listing rules, which may tighten after it was stored),
// so corrupt data fails loudly instead of spreading.
func Restore(s Snapshot) (*Ticket, error) {
	holds := s.Status == StatusReserved || s.Status == StatusSold
	switch {
	case ValidateID(s.ID) != nil:
		return nil, errCorrupt(s.ID, "id")
	case s.SellerID == "":
		return nil, errCorrupt(s.ID, "sellerId")
	case !s.Status.Valid():
		return nil, errCorrupt(s.ID, "status")
	case holds != (s.OrderID != ""):
		return nil, errCorrupt(s.ID, "orderId")
	case s.Price < 0 || s.Version < 0:
		return nil, errCorrupt(s.ID, "price or version")
	}
	seen := maps.Clone(s.SeenOrders)
	if seen == nil {
		seen = map[string]int64{}
	}
	return &Ticket{
		id: s.ID, sellerID: s.SellerID, title: s.Title, price: s.Price, currency: s.Currency,
		status: s.Status, orderID: s.OrderID, version: s.Version, createdAt: s.CreatedAt.UTC(),
		seenOrders: seen, seenFloor: s.SeenFloor,
	}, nil
}
