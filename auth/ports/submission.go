package ports

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"strings"

	"github.com/ticketing/ticketing/pkg/apierr"
)

var (
	errSubmissionType = apierr.UnsupportedMediaType("a self-service submission must be JSON (application/json) or a form (application/x-www-form-urlencoded)")
	errSubmissionJSON = apierr.Invalid("malformed_json", "the request body is not valid JSON")
	errSubmissionForm = apierr.Invalid("malformed_form", "the request body is not a valid form")
)

// submission is what the pass-through reads from a self-service submission:
// the fields the limits and the password rule need, by their flattened
// names ("identifier", "traits.email"). Kratos reads the body itself.
type submission map[string]string

// readSubmission reads the fields named in want from a JSON or form body.
// A field sent twice with different values (duplicate JSON keys, keys that
// differ in letter case, a repeated form field) is refused: Kratos might
// read the other one, and the limits would count the wrong account.
func readSubmission(contentType string, body []byte, want ...string) (submission, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, errSubmissionType
	}
	found := map[string][]string{}
	switch mediaType {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := walkJSON(dec, "", want, found); err != nil {
			return nil, errSubmissionJSON
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errSubmissionJSON
		}
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errSubmissionForm
		}
		for k, vs := range form {
			if name, ok := wanted(want, k); ok {
				found[name] = append(found[name], vs...)
			}
		}
	default:
		return nil, errSubmissionType
	}
	s := submission{}
	for name, vs := range found {
		for _, v := range vs[1:] {
			if v != vs[0] {
				return nil, apierr.Validation(apierr.Field(name, "is given more than once with different values"))
			}
		}
		s[name] = vs[0]
	}
	return s, nil
}

// wanted matches a flattened name against want, ignoring letter case as
// Go's JSON decoding (and so Kratos) does.
func wanted(want []string, name string) (string, bool) {
	for _, w := range want {
		if strings.EqualFold(w, name) {
			return w, true
		}
	}
	return "", false
}

// walkJSON reads one JSON value at path and records every string (or
// other scalar, as text) found under a wanted name.
func walkJSON(dec *json.Decoder, path string, want []string, found map[string][]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				name, ok := key.(string)
				if !ok {
					return errSubmissionJSON
				}
				if path != "" {
					name = path + "." + name
				}
				if err := walkJSON(dec, name, want, found); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := walkJSON(dec, path+".[]", want, found); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case string:
		if name, ok := wanted(want, path); ok {
			found[name] = append(found[name], t)
		}
	case json.Number:
		if name, ok := wanted(want, path); ok {
			found[name] = append(found[name], t.String())
		}
	}
	return nil
}
