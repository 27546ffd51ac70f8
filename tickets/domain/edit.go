package domain

// Changes is a validated edit of a ticket's listing: the fields to set, at
// least one. A nil field stays as it is.
type Changes struct {
	title    *string
	price    *int64
	currency *string
}

// NewChanges validates an edit: at least one field, each meeting the
// listing rules; every problem is reported at once, naming its field.
func NewChanges(title *string, price *int64, currency *string) (Changes, error) {
	if title == nil && price == nil && currency == nil {
		return Changes{}, ErrNothingToChange
	}
	var c Changes
	var titleIssue, priceIssue, currencyIssue string
	if title != nil {
		trimmed := normalizeTitle(*title)
		c.title, titleIssue = &trimmed, titleProblem(trimmed)
	}
	if price != nil {
		p := *price
		c.price, priceIssue = &p, priceProblem(p)
	}
	if currency != nil {
		cur := *currency
		c.currency, currencyIssue = &cur, currencyProblem(cur)
	}
	problems := collect(check("title", titleIssue), check("price", priceIssue), check("currency", currencyIssue))
	if err := problems.err(); err != nil {
		return Changes{}, err
	}
	return c, nil
}

// Edit applies the seller's changes. Only an available ticket may change:
// once an order holds it the buyer's price is fixed (ErrTicketLocked).
// Changing nothing (every field already has its value) is ErrNoChange;
// otherwise the version goes up by one.
func (t *Ticket) Edit(c Changes) error {
	if t.status != StatusAvailable {
		return ErrTicketLocked
	}
	changed := false
	if c.title != nil && *c.title != t.title {
		t.title, changed = *c.title, true
	}
	if c.price != nil && *c.price != t.price {
		t.price, changed = *c.price, true
	}
	if c.currency != nil && *c.currency != t.currency {
		t.currency, changed = *c.currency, true
	}
	if !changed {
		return ErrNoChange
	}
	t.version++
	return nil
}
