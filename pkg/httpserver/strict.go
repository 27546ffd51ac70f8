package httpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// maxJSONDepth bounds how deeply a body may nest objects and arrays: every
// body the services take is two or three levels deep.
const maxJSONDepth = 32

// checkStrict refuses what encoding/json would quietly accept and another
// parser could read differently, so that every reader of a body sees the
// same value: a key given twice in one object (encoding/json keeps the
// last, others the first), a key that names a field of dst only in another
// letter case (encoding/json matches case-insensitively) or not at all,
// text that is not UTF-8 or holds a lone surrogate escape (encoding/json
// turns both into U+FFFD), and nesting deeper than maxJSONDepth. Each
// refusal is a 400 naming the field and the rule. It reads the first JSON
// value only: syntax errors and trailing data are left to the decoder,
// which reports them with their position.
func checkStrict(body []byte, dst reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*jsonLevel
	top := &jsonLevel{kind: topLevel, typ: dst}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder will report
		}
		raw := body[start:dec.InputOffset()]
		cur := top
		if len(stack) > 0 {
			cur = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) == maxJSONDepth {
					return apierr.Invalid("malformed_json", fmt.Sprintf("the request body must not nest objects and arrays more than %d deep", maxJSONDepth))
				}
				stack = append(stack, cur.child(v))
			default:
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
				stack[len(stack)-1].valueDone()
			}
			continue
		case string:
			if problem := textProblem(raw); problem != "" {
				return apierr.Validation(apierr.Field(cur.fieldPath(v), problem))
			}
			if cur.expectsKey() {
				if err := cur.key(v); err != nil {
					return err
				}
				continue
			}
		}
		cur.valueDone()
	}
}

// jsonLevel is one open object or array of the body being checked (or the
// top, around the body), with the Go type it decodes into: nil when the
// checks cannot follow it (an interface, a type with its own UnmarshalJSON).
type jsonLevel struct {
	kind    levelKind
	path    string // the dotted path of the field this level is the value of
	typ     reflect.Type
	inKey   bool // an object waiting for its next key
	seen    map[string]bool
	fields  map[string]reflect.Type // a struct's exact JSON names
	pending string                  // the path of the key whose value comes next
	pendTyp reflect.Type
}

type levelKind int

const (
	topLevel levelKind = iota
	objectLevel
	arrayLevel
)

// child opens the object or array that is l's current value.
func (l *jsonLevel) child(d json.Delim) *jsonLevel {
	path, typ := l.path, l.typ
	switch l.kind {
	case objectLevel:
		path, typ = l.pending, l.pendTyp
	case arrayLevel:
		typ = elemType(l.typ)
	}
	c := &jsonLevel{kind: arrayLevel, path: path, typ: decodedType(typ)}
	if d == '{' {
		c.kind, c.inKey, c.seen = objectLevel, true, map[string]bool{}
		if c.typ != nil && c.typ.Kind() == reflect.Struct {
			c.fields = jsonFields(c.typ)
		}
	}
	return c
}

func (l *jsonLevel) expectsKey() bool { return l.kind == objectLevel && l.inKey }

// key records an object's key: a second use of it, or a key a struct does
// not have by that exact name (naming the field it matches in another
// letter case, if any), is refused.
func (l *jsonLevel) key(k string) error {
	path := l.fieldPath(k)
	if l.seen[k] {
		return apierr.Validation(apierr.Field(path, "is given more than once"))
	}
	l.seen[k] = true
	l.inKey, l.pending, l.pendTyp = false, path, nil
	switch {
	case l.fields != nil:
		typ, ok := l.fields[k]
		if !ok {
			for name := range l.fields {
				if strings.EqualFold(name, k) {
					return apierr.Validation(apierr.Field(path, fmt.Sprintf("unknown field; keys are case-sensitive, did you mean %q?", name)))
				}
			}
			return apierr.Validation(apierr.Field(path, "unknown field"))
		}
		l.pendTyp = typ
	case l.typ != nil && l.typ.Kind() == reflect.Map:
		l.pendTyp = l.typ.Elem()
	}
	return nil
}

// valueDone notes that a value of l is complete: an object waits for its
// next key.
func (l *jsonLevel) valueDone() {
	if l.kind == objectLevel {
		l.inKey = true
	}
}

// fieldPath names s as the client wrote it: the key's dotted path for a
// key, the current field for a value.
func (l *jsonLevel) fieldPath(s string) string {
	switch {
	case l.expectsKey() && l.path == "":
		return s
	case l.expectsKey():
		return l.path + "." + s
	case l.kind == objectLevel:
		return l.pending
	}
	return l.path
}

// decodedType is the type encoding/json decodes a JSON value into, or nil
// when the checks cannot follow it further.
func decodedType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	return t
}

func elemType(t reflect.Type) reflect.Type {
	if t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return nil
	}
	return t.Elem()
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps a struct's JSON field names, as encoding/json names them
// (tags, embedded structs promoted), to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			if et := decodedType(f.Type); et != nil && et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					fields[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// textProblem says what is wrong with a JSON string token as sent (raw,
// quotes and any separators before it included), or "".
func textProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return "must be valid UTF-8 text"
	}
	if loneSurrogate(raw) {
		return "must be valid Unicode text (a \\u escape is half of a surrogate pair)"
	}
	return ""
}

// loneSurrogate reports whether a JSON string's raw text holds a \u escape
// of a UTF-16 surrogate that is not part of a high-low pair.
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // an escaped character, possibly a backslash
			continue
		}
		r, ok := hexRune(raw, i+2)
		if !ok || !utf16.IsSurrogate(r) {
			i++
			continue
		}
		low, ok := hexRune(raw, i+8)
		if r >= 0xDC00 || !ok || i+7 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' ||
			utf16.DecodeRune(r, low) == utf8.RuneError {
			return true
		}
		i += 11
	}
	return false
}

// hexRune reads the four hex digits at raw[at:].
func hexRune(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
