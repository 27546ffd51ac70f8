package ports

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
)

// The media types of a self-service submission: the two Kratos reads that
// the pass-through reads as well (Kratos also takes multipart forms, which
// no browser flow needs).
const (
	jsonSubmission = "application/json"
	formSubmission = "application/x-www-form-urlencoded"
)

var errSubmissionForm = apierr.Invalid("malformed_form", "the request body is not a valid form")

// submission is what the pass-through reads from a self-service submission:
// the fields the limits and the password rule need, by their flattened
// names ("identifier", "traits.email"), each a non-empty string. Kratos
// reads the body itself.
type submission map[string]string

// readSubmission reads the fields named in want from a JSON or form body as
// Kratos (v1.3.1, ory/x decoderx) reads them, refusing every body the two
// could read differently, each with a 400 naming the field:
//   - Kratos reads a dotted name both as a key of its own ("traits.email")
//     and through the object holding it (traits → email), and turns a value
//     of another type into text of its own making (12345678e0 becomes the
//     password "12345678", traits sent as a string is read as JSON): so a
//     field read here must be a JSON string, an object holding one must be
//     an object, and in a form an object cannot be sent whole;
//   - a field given twice with different values (both spellings of a dotted
//     name, a repeated form field) could be read either way; duplicate JSON
//     keys are refused outright (httpserver.CheckJSONObject);
//   - Kratos matches names exactly: a key that differs from a read field
//     only in letter case is refused rather than guessed at.
//
// Kratos skips empty strings, and so does readSubmission.
func readSubmission(mediaType string, body []byte, want ...string) (submission, error) {
	found := map[string][]string{}
	switch mediaType {
	case jsonSubmission:
		if err := httpserver.CheckJSONObject(body); err != nil {
			return nil, err
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			return nil, apierr.Invalid("malformed_json", "the request body is not valid JSON").WithCause(err)
		}
		for _, name := range want {
			if err := readJSONField(top, "", strings.Split(name, "."), found); err != nil {
				return nil, err
			}
		}
	case formSubmission:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errSubmissionForm
		}
		for _, name := range want {
			if err := readFormField(form, name, found); err != nil {
				return nil, err
			}
		}
	default:
		return nil, apierr.UnsupportedMediaType("a self-service submission must be JSON or a form")
	}
	s := submission{}
	for name, vs := range found {
		for _, v := range vs[1:] {
			if v != vs[0] {
				return nil, apierr.Validation(apierr.Field(name, "is given more than once with different values"))
			}
		}
		if vs[0] != "" {
			s[name] = vs[0]
		}
	}
	return s, nil
}

// readJSONField records in found every string obj holds under the dotted
// name rest (below prefix): as one key, or as an object's key holding the
// remaining parts.
func readJSONField(obj map[string]json.RawMessage, prefix string, rest []string, found map[string][]string) error {
	name := strings.Join(rest, ".")
	if prefix != "" {
		name = prefix + "." + name
	}
	for i := 1; i <= len(rest); i++ {
		key := strings.Join(rest[:i], ".")
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		if err := sameCase(obj, key, path); err != nil {
			return err
		}
		raw, ok := obj[key]
		if !ok {
			continue
		}
		raw = bytes.TrimSpace(raw)
		if i == len(rest) {
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return apierr.Validation(apierr.Field(path, "must be a string"))
			}
			if s != "" {
				found[name] = append(found[name], s)
			}
			continue
		}
		var inner map[string]json.RawMessage
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &inner) != nil {
			return apierr.Validation(apierr.Field(path, "must be an object"))
		}
		if err := readJSONField(inner, path, rest[i:], found); err != nil {
			return err
		}
	}
	return nil
}

// readFormField records the values of the form field name. A form sends
// each field by its flattened name: an object above it (traits) sent whole
// would be read by Kratos as JSON, unseen here.
func readFormField(form url.Values, name string, found map[string][]string) error {
	parts := strings.Split(name, ".")
	for i := 1; i < len(parts); i++ {
		above := strings.Join(parts[:i], ".")
		if _, ok := form[above]; ok {
			return apierr.Validation(apierr.Field(above, "must not be sent whole in a form; send each field by its name, such as "+name))
		}
		if err := sameCase(form, above, above); err != nil {
			return err
		}
	}
	if err := sameCase(form, name, name); err != nil {
		return err
	}
	vs := form[name]
	for _, v := range vs {
		// Kratos reads the first value, even a blank one.
		if v != vs[0] {
			return apierr.Validation(apierr.Field(name, "is given more than once with different values"))
		}
	}
	if len(vs) > 0 && vs[0] != "" {
		found[name] = append(found[name], vs[0])
	}
	return nil
}

// sameCase refuses a key of m that names key in another letter case:
// Kratos would not read it, and the pass-through must not either.
func sameCase[V any](m map[string]V, key, path string) error {
	for k := range m {
		if k != key && strings.EqualFold(k, key) {
			return apierr.Validation(apierr.Field(path, "must be spelled "+key+" (names are case-sensitive)"))
		}
	}
	return nil
}
