// Package pagination implements the list conventions of docs/architecture.md
// ("API conventions"): `limit` (default 20, 1–100) and an opaque keyset
// `cursor`, signed so that a tampered cursor, or one taken from another list, is
// a 400 rather than a silently wrong page.
package pagination

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// Limits of `limit`.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is a validated page request.
type Page struct {
	// Limit is how many items to return.
	Limit int
	// After is the sort key of the last item of the previous page; empty
	// for the first page. Lists are newest first, so the next page holds
	// the keys below After.
	After string
}

// Signer signs and checks cursors with a server secret.
type Signer struct {
	secret []byte
}

// NewSigner returns a signer; the secret must be the same on every
// instance of a service.
func NewSigner(secret string) *Signer { return &Signer{secret: []byte(secret)} }

type cursor struct {
	After string `json:"a"`
	Scope string `json:"s"`
}

// Parse validates the raw `limit` and `cursor` query values. scope names the
// list and its filters (e.g. "tickets?title=jazz"): a cursor is valid only
// for the scope that issued it.
func (s *Signer) Parse(rawLimit, rawCursor, scope string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	if rawLimit != "" {
		n, err := strconv.Atoi(rawLimit)
		if err != nil || n < 1 || n > MaxLimit {
			return Page{}, apierr.Validation(apierr.Field("limit", "must be an integer from 1 to 100"))
		}
		p.Limit = n
	}
	if rawCursor == "" {
		return p, nil
	}
	bad := apierr.Validation(apierr.Field("cursor", "is not a cursor this list issued; use the 'next' value of the previous page"))
	// The decoder skips CR and LF; a cursor is only ever the alphabet.
	if strings.IndexFunc(rawCursor, notURLBase64) >= 0 {
		return Page{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rawCursor)
	if err != nil || len(raw) <= sha256.Size {
		return Page{}, bad
	}
	body, mac := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(mac, s.mac(body)) {
		return Page{}, bad
	}
	var c cursor
	if err := json.Unmarshal(body, &c); err != nil || c.Scope != scope || c.After == "" {
		return Page{}, bad
	}
	p.After = c.After
	return p, nil
}

// Next returns the cursor of the page after the one that ended with key
// lastKey, or nil when the page was not full (there is no next page).
func (s *Signer) Next(page Page, returned int, lastKey, scope string) *string {
	if returned < page.Limit || lastKey == "" {
		return nil
	}
	body, _ := json.Marshal(cursor{After: lastKey, Scope: scope})
	out := base64.RawURLEncoding.EncodeToString(append(body, s.mac(body)...))
	return &out
}

func notURLBase64(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

func (s *Signer) mac(body []byte) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write(body)
	return h.Sum(nil)
}
