// Package config loads a service's typed configuration from the environment.
//
// A configuration is a struct whose fields carry tags:
//
//	type Config struct {
//		MongoURI string        `env:"MONGO_URI,required"`
//		CacheTTL time.Duration `env:"SESSION_CACHE_TTL" default:"2s" validate:"min=0s,max=5s"`
//		Origins  []string      `env:"CORS_ALLOWED_ORIGINS" validate:"url"`
//	}
//
// Supported field types are string, int, bool, time.Duration, []string (split
// on commas and white space) and any type implementing
// encoding.TextUnmarshaler. A nested struct field without an env tag is loaded
// recursively, so shared pieces (session.Config, logging.Config) can be
// embedded. A variable set to the empty string counts as unset.
//
// Rules in the validate tag, comma-separated: min=X and max=X bound an int or
// a duration's value, a string's length, or a list's length; oneof=a|b|c
// limits a string to the listed values; url requires an absolute http or https
// URL (for a list: each element); secret refuses a value published in this
// repository unless the stack runner started the process (CheckSecret). A
// struct with a Validate() error method is validated by it after its fields
// load.
//
// Load reports every problem at once, each naming the variable and the rule,
// so a misconfigured service fails fast with one complete message.
package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
)

// Lookup finds an environment variable, like os.LookupEnv.
type Lookup func(name string) (string, bool)

// Load fills dst, a pointer to a struct, from the process environment.
func Load(dst any) error {
	return LoadFrom(dst, os.LookupEnv)
}

// LoadFrom fills dst, a pointer to a struct, from lookup. The error lists
// every problem found; each line reads "config: NAME: problem".
func LoadFrom(dst any, lookup Lookup) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: destination must be a non-nil pointer to a struct, got %T", dst)
	}
	var problems []error
	loadStruct(v.Elem(), lookup, &problems)
	return errors.Join(problems...)
}

// validator is the hook a configuration struct implements for rules that
// span fields.
type validator interface {
	Validate() error
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func loadStruct(v reflect.Value, lookup Lookup, problems *[]error) {
	before := len(*problems)
	t := v.Type()
	for i := range t.NumField() {
		field := t.Field(i)
		tag, tagged := field.Tag.Lookup("env")
		if !tagged {
			if field.Type.Kind() == reflect.Struct && field.IsExported() && !isTextUnmarshaler(field.Type) {
				loadStruct(v.Field(i), lookup, problems)
			}
			continue
		}
		if !field.IsExported() {
			*problems = append(*problems, fmt.Errorf("config: field %s.%s has an env tag but is not exported", t.Name(), field.Name))
			continue
		}
		if err := loadField(v.Field(i), field, tag, lookup); err != nil {
			*problems = append(*problems, err)
		}
	}
	if len(*problems) > before {
		return
	}
	if hook, ok := v.Addr().Interface().(validator); ok {
		if err := hook.Validate(); err != nil {
			*problems = append(*problems, fmt.Errorf("config: %w", err))
		}
	}
}

func loadField(dst reflect.Value, field reflect.StructField, tag string, lookup Lookup) error {
	name, opts, _ := strings.Cut(tag, ",")
	required := opts == "required"
	if name == "" || (opts != "" && !required) {
		return fmt.Errorf("config: field %s: malformed env tag %q", field.Name, tag)
	}
	def, hasDefault := field.Tag.Lookup("default")
	if required && hasDefault {
		return fmt.Errorf("config: %s: a required variable cannot have a default", name)
	}

	raw, ok := lookup(name)
	raw = strings.TrimSpace(raw)
	switch {
	case ok && raw != "":
	case required:
		return fmt.Errorf("config: %s: required but not set", name)
	case hasDefault:
		raw = def
	default:
		return nil // optional, unset: the zero value stays
	}

	if err := set(dst, raw); err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	rules, err := parseRules(field.Tag.Get("validate"), dst.Type(), lookup)
	if err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	for _, r := range rules {
		if err := r(dst, raw); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
	}
	return nil
}

func isTextUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}
