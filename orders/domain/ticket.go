package domain

// Ticket is orders' copy of a ticket of the tickets service, kept from its
// ticket.* events: the whole state at Version.
type Ticket struct {
	ID       string
	Title    string
	Price    int64
	Currency string
	// SellerID is the identity id of the ticket's owner.
	SellerID string
	// Status is the tickets service's status: available, reserved or sold.
	// Orders does not decide on it: the unique active ticket id does.
	Status string
	// OrderID is the order holding the ticket, as the tickets service last
	// told.
	OrderID string
	Version int64
}
