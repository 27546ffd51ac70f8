package config

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// rule checks a loaded field; raw is the text it was parsed from.
type rule func(v reflect.Value, raw string) error

// parseRules turns a validate tag into rules for a field of type t; lookup
// is the environment the field was loaded from.
func parseRules(tag string, t reflect.Type, lookup Lookup) ([]rule, error) {
	if tag == "" {
		return nil, nil
	}
	var rules []rule
	for _, spec := range strings.Split(tag, ",") {
		name, arg, _ := strings.Cut(spec, "=")
		var (
			r   rule
			err error
		)
		switch name {
		case "min", "max":
			r, err = boundRule(name == "min", arg, t)
		case "oneof":
			r, err = oneOfRule(arg, t)
		case "url":
			r, err = urlRule(t)
		case "secret":
			r, err = secretRule(t, lookup)
		default:
			err = fmt.Errorf("unknown validate rule %q", spec)
		}
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func boundRule(isMin bool, arg string, t reflect.Type) (rule, error) {
	cmp, word := "≤", "at most"
	if isMin {
		cmp, word = "≥", "at least"
	}
	outside := func(n, bound int64) bool {
		if isMin {
			return n < bound
		}
		return n > bound
	}
	switch {
	case t == durationType:
		bound, err := time.ParseDuration(arg)
		if err != nil {
			return nil, fmt.Errorf("malformed validate rule: %q is not a duration", arg)
		}
		return func(v reflect.Value, raw string) error {
			if outside(v.Int(), int64(bound)) {
				return fmt.Errorf("must be a duration %s %s, got %q", cmp, arg, raw)
			}
			return nil
		}, nil
	case t.Kind() == reflect.Int:
		bound, err := strconv.Atoi(arg)
		if err != nil {
			return nil, fmt.Errorf("malformed validate rule: %q is not an integer", arg)
		}
		return func(v reflect.Value, raw string) error {
			if outside(v.Int(), int64(bound)) {
				return fmt.Errorf("must be an integer %s %d, got %q", cmp, bound, raw)
			}
			return nil
		}, nil
	case t.Kind() == reflect.String || t.Kind() == reflect.Slice:
		bound, err := strconv.Atoi(arg)
		if err != nil {
			return nil, fmt.Errorf("malformed validate rule: %q is not an integer", arg)
		}
		unit := "characters"
		if t.Kind() == reflect.Slice {
			unit = "items"
		}
		// The value itself is not echoed: it may be a secret.
		return func(v reflect.Value, _ string) error {
			n := v.Len()
			if t.Kind() == reflect.String {
				n = utf8.RuneCountInString(v.String())
			}
			if outside(int64(n), int64(bound)) {
				return fmt.Errorf("must be %s %d %s long, got %d", word, bound, unit, n)
			}
			return nil
		}, nil
	default:
		return nil, fmt.Errorf("validate rule min/max does not apply to type %s", t)
	}
}

func oneOfRule(arg string, t reflect.Type) (rule, error) {
	if t.Kind() != reflect.String {
		return nil, fmt.Errorf("validate rule oneof does not apply to type %s", t)
	}
	allowed := strings.Split(arg, "|")
	return func(v reflect.Value, raw string) error {
		if !slices.Contains(allowed, v.String()) {
			return fmt.Errorf("must be one of %s, got %q", strings.Join(allowed, ", "), raw)
		}
		return nil
	}, nil
}

func urlRule(t reflect.Type) (rule, error) {
	switch {
	case t.Kind() == reflect.String:
		return func(v reflect.Value, _ string) error {
			return checkURL(v.String())
		}, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return func(v reflect.Value, _ string) error {
			for i := range v.Len() {
				if err := checkURL(v.Index(i).String()); err != nil {
					return err
				}
			}
			return nil
		}, nil
	default:
		return nil, fmt.Errorf("validate rule url does not apply to type %s", t)
	}
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", s)
	}
	return nil
}
