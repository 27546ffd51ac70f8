package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var durationType = reflect.TypeFor[time.Duration]()

// set parses raw into dst according to dst's type.
func set(dst reflect.Value, raw string) error {
	if isTextUnmarshaler(dst.Type()) {
		u := dst.Addr().Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(raw)); err != nil {
			return fmt.Errorf("invalid value %q: %w", raw, err)
		}
		return nil
	}
	switch {
	case dst.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("must be a duration such as 2s or 150ms, got %q", raw)
		}
		dst.SetInt(int64(d))
	case dst.Kind() == reflect.String:
		dst.SetString(raw)
	case dst.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", raw)
		}
		dst.SetInt(int64(n))
	case dst.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		dst.SetBool(b)
	case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.String:
		dst.Set(reflect.ValueOf(splitList(raw)).Convert(dst.Type()))
	default:
		return fmt.Errorf("unsupported field type %s", dst.Type())
	}
	return nil
}

// splitList splits a list written with commas, spaces or both.
func splitList(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool {
		return r == ',' || unicode.IsSpace(r)
	})
}
