package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/validation"
)

// Limits of a ticket's fields.
const (
	// MinTitleLength and MaxTitleLength bound a trimmed title, in
	// characters (Unicode code points, not bytes).
	MinTitleLength = 3
	MaxTitleLength = 56
	// MaxPrice is the highest price, in minor units (1,000,000.00 in a
	// two-decimal currency): far above any ticket, far below overflow.
	MaxPrice int64 = 100_000_000
	// MaxSearchLength bounds a title search, in characters: no title is
	// longer, so a longer search can match nothing.
	MaxSearchLength = MaxTitleLength
)

// ValidateID checks a ticket id by the id rule every service shares
// (validation.ObjectID). A malformed id is a 400 naming "id"; a well-formed
// unknown one is a 404 later.
func ValidateID(id string) error {
	return validation.ObjectID("id", id)
}

// TitleSearch is a validated title search: the lower-cased text a title
// must contain, case-insensitively. Empty means no search.
type TitleSearch string

// NewTitleSearch validates a raw search text: trimmed, at most
// MaxSearchLength characters of valid UTF-8 without control characters.
// Any other character is allowed, regular-expression metacharacters
// included: the search is for the literal text.
func NewTitleSearch(raw string) (TitleSearch, error) {
	raw = strings.TrimSpace(raw)
	var problem string
	switch {
	case !utf8.ValidString(raw):
		problem = "must be valid UTF-8 text"
	case strings.ContainsFunc(raw, unicode.IsControl):
		problem = "must not contain control characters"
	case utf8.RuneCountInString(raw) > MaxSearchLength:
		problem = fmt.Sprintf("must be at most %d characters", MaxSearchLength)
	}
	if problem != "" {
		return "", apierr.Validation(apierr.Field("title", problem))
	}
	return TitleSearch(SearchKey(raw)), nil
}

// SearchKey is the form of a title that searches compare: lower-cased. A
// store keeps it beside the title so a search is a case-sensitive match on
// it, the same on every database.
func SearchKey(title string) string { return strings.ToLower(title) }

func normalizeTitle(title string) string { return strings.TrimSpace(title) }

func titleProblem(title string) string {
	n := utf8.RuneCountInString(title)
	switch {
	case title == "":
		return "is required"
	case n < MinTitleLength || n > MaxTitleLength:
		return fmt.Sprintf("must be %d to %d characters long (after trimming spaces), got %d", MinTitleLength, MaxTitleLength, n)
	}
	return validation.DisplayTextProblem(title)
}

func requiredPriceProblem(price *int64) string {
	if price == nil {
		return "is required"
	}
	return priceProblem(*price)
}

func priceProblem(price int64) string {
	if price < 0 || price > MaxPrice {
		return fmt.Sprintf("must be an integer from 0 to %d, in minor units (2500 = 25.00)", MaxPrice)
	}
	return ""
}

func currencyProblem(currency string) string {
	if !supportedCurrencies[currency] {
		return "must be a lower-case ISO 4217 code that Stripe supports, such as eur or usd"
	}
	return ""
}

// problems collects field problems so that all are reported at once.
type problems []apierr.FieldError

func collect(fields ...*apierr.FieldError) problems {
	var p problems
	for _, f := range fields {
		if f != nil {
			p = append(p, *f)
		}
	}
	return p
}

func check(field, problem string) *apierr.FieldError {
	if problem == "" {
		return nil
	}
	f := apierr.Field(field, problem)
	return &f
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return apierr.Validation(p...)
}
