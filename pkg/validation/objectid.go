package validation

import "github.com/ticketing/ticketing/pkg/apierr"

// objectIDLength is the length of an ObjectId in hex digits.
const objectIDLength = 24

// IsObjectID reports whether s is a resource id (ticket, order, payment):
// an ObjectId as exactly 24 lower-case hex digits. Upper case is not
// another spelling of the same id: ids are compared, stored and signed
// into cursors as strings, so a second spelling would be a second key.
func IsObjectID(s string) bool {
	if len(s) != objectIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ObjectIDProblem is the rule IsObjectID enforces, as a client reads it in
// a field error.
const ObjectIDProblem = "must be an id of 24 lower-case hexadecimal digits"

// ObjectID checks an id a client sent in field: missing → "is required",
// malformed (upper case included) → ObjectIDProblem; both are 400s naming
// field. A well-formed id that names nothing is the caller's 404 to give.
func ObjectID(field, raw string) error {
	switch {
	case raw == "":
		return apierr.Validation(apierr.Field(field, "is required"))
	case !IsObjectID(raw):
		return apierr.Validation(apierr.Field(field, ObjectIDProblem))
	}
	return nil
}
