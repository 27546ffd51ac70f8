package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// MaxBodyBytes is the largest request body a service reads (1 MiB).
const MaxBodyBytes = 1 << 20

// BindJSON decodes the request body into dst, a pointer, under the API's body
// rules, and returns an *apierr.Error a client can act on otherwise: a
// Content-Type other than application/json, a charset other than UTF-8 or a
// Content-Encoding other than identity → 415; more than MaxBodyBytes → 413;
// an empty body, malformed JSON, trailing data after the value, a body that
// is not an object, a field dst does not have, a value of the wrong JSON
// type, or what checkStrict refuses (a key twice, a key in another letter
// case, text that is not UTF-8, deep nesting) → 400 naming the field (and
// the rule, or the expected type).
//
// Checking the values themselves is the domain's work, not BindJSON's.
func BindJSON(c *gin.Context, dst any) error {
	r := c.Request
	if r.ContentLength > MaxBodyBytes {
		return errTooLarge
	}
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return errEmptyBody
	}
	if err := checkMediaType(r.Header); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return apierr.Invalid("unreadable_body", "the request body could not be read").WithCause(err)
	}
	return decodeJSON(body, dst)
}

var (
	errTooLarge  = apierr.TooLarge(fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes))
	errEmptyBody = apierr.Invalid("empty_body", "a JSON request body is required")
	errNotObject = apierr.Invalid("malformed_json", "the request body must be a JSON object")
)

// checkMediaType accepts JSON in UTF-8 (the only encoding RFC 8259 allows
// between systems), sent as it is: a body in another character set, or
// compressed, would be decoded as garbage or not at all.
func checkMediaType(h http.Header) error {
	_, err := MediaType(h, "application/json")
	return err
}

// MediaType returns the media type of a request body if it is one of
// accepted, sent in UTF-8 and not encoded, and an *apierr.Error (415)
// otherwise. The header is read as strictly as any reader behind this one
// might read it: exactly one Content-Type line holding exactly one media
// type (a comma is refused: some parsers split a list on it and pick
// another type than the one checked here), every parameter well formed,
// a charset, if named, UTF-8. A service that passes the body on forwards
// the returned type, so that the next reader sees what was checked.
func MediaType(h http.Header, accepted ...string) (string, error) {
	refused := apierr.UnsupportedMediaType("the request body must be sent with one Content-Type: " + strings.Join(accepted, " or "))
	values := h.Values("Content-Type")
	if len(values) != 1 || strings.Contains(values[0], ",") {
		return "", refused
	}
	mediaType, params, err := mime.ParseMediaType(values[0])
	if err != nil || !slices.Contains(accepted, mediaType) {
		return "", refused
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return "", apierr.UnsupportedMediaType("the request body must be UTF-8 (charset=utf-8), not " + charset)
	}
	for _, coding := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(coding, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return "", apierr.UnsupportedMediaType("the request body must not be encoded (Content-Encoding " + c + " is not supported)")
			}
		}
	}
	return mediaType, nil
}

// CheckJSONObject refuses a body that BindJSON would refuse before looking
// at its fields: not exactly one JSON object, or one that checkStrict
// refuses (a key twice at any depth, text that is not UTF-8, deep nesting).
// It is for a body a service reads only in part and passes on, so that the
// next reader cannot see it differently.
func CheckJSONObject(body []byte) error {
	return decodeJSON(body, new(map[string]json.RawMessage))
}

func decodeJSON(body []byte, dst any) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return errEmptyBody
	case trimmed[0] != '{':
		if !json.Valid(trimmed) {
			return malformed(json.Unmarshal(trimmed, new(any)))
		}
		return errNotObject
	}
	if err := checkStrict(trimmed, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.InputOffset() != int64(len(trimmed)) {
		return apierr.Invalid("malformed_json", "the request body must hold one JSON value and nothing after it")
	}
	return nil
}

func decodeError(err error) error {
	var (
		typeErr    *json.UnmarshalTypeError
		invalidErr *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return errNotObject
		}
		return apierr.Validation(apierr.Field(typeErr.Field, "must be "+jsonType(typeErr.Type)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apierr.Validation(apierr.Field(field, "unknown field"))
	case errors.As(err, &invalidErr):
		return apierr.Internal(err) // the handler passed a non-pointer: a bug
	default:
		return malformed(err)
	}
}

func malformed(err error) error {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return apierr.Invalid("malformed_json",
			fmt.Sprintf("the request body is not valid JSON: %s (at byte %d)", syntaxErr.Error(), syntaxErr.Offset))
	}
	return apierr.Invalid("malformed_json", "the request body is not valid JSON").WithCause(err)
}

// jsonType names the JSON type a Go type is decoded from, for clients.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
