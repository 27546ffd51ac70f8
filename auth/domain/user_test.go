package domain_test

import (
	"strings"
	"testing"

	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/validation"
)

const validID = "c83b8787-610a-44c0-a9c2-b96ba98e4ad5"

const tooCommon = "is too common: it is among the passwords attackers try first"

func TestPasswordProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ password, want string }{
		{"kettle-51-orbit", ""},
		{"пароль12", ""},
		{strings.Repeat("p", 72), ""},
		{"", "is required"},
		{"1234567", "must be at least 8 characters"},
		{strings.Repeat("p", 73), "must be at most 72 bytes (72 plain ASCII characters)"},
		{"password", tooCommon},
		{"iloveyou", tooCommon},
		{"Iloveyou1", tooCommon},
		{"QWERTYUIOP", tooCommon},
		{"12345678", tooCommon},
		{"football1", tooCommon},
	} {
		t.Run(tc.password, func(t *testing.T) {
			t.Parallel()
			if got := domain.PasswordProblem(tc.password); got != tc.want {
				t.Errorf("PasswordProblem(%q) = %q, want %q", tc.password, got, tc.want)
			}
		})
	}
}

func TestNewRegistration_ValidatesEveryField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		email      string
		password   string
		first      string
		last       string
		wantFields map[string]string // field → message; nil means valid
	}{
		{name: "valid", email: "alice@example.com", password: "correct horse"},
		{name: "valid with name", email: "alice@example.com", password: "kettle-51-orbit", first: "Alice", last: "Doe"},
		{name: "72-byte password", email: "a@example.com", password: strings.Repeat("p", 72)},
		{name: "8 multibyte characters", email: "a@example.com", password: "пароль12"},
		{name: "64-character name", email: "a@example.com", password: "kettle-51-orbit", first: strings.Repeat("é", 64)},
		{
			name: "everything missing", email: "", password: "",
			wantFields: map[string]string{"email": "is required", "password": "is required"},
		},
		{name: "white-space email", email: "   ", password: "kettle-51-orbit", wantFields: map[string]string{"email": "is required"}},
		{name: "no at sign", email: "alice.example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "no local part", email: "@example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "bad domain", email: "alice@exa_mple.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "domain starts with hyphen", email: "alice@-example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "display name form", email: "Alice <alice@example.com>", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "two at signs", email: "a@b@example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "local part over 64", email: strings.Repeat("a", 65) + "@example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be a valid email address"}},
		{name: "email over 254", email: "a@" + strings.Repeat("b", 250) + ".com", password: "kettle-51-orbit", wantFields: map[string]string{"email": "must be at most 254 characters"}},
		{name: "password too short", email: "a@example.com", password: "1234567", wantFields: map[string]string{"password": "must be at least 8 characters"}},
		{name: "common password", email: "a@example.com", password: "sunshine1", wantFields: map[string]string{"password": tooCommon}},
		{name: "common password in capitals", email: "a@example.com", password: "PASSWORD123", wantFields: map[string]string{"password": tooCommon}},
		{name: "common password of 8 digits", email: "a@example.com", password: "12345678", wantFields: map[string]string{"password": tooCommon}},
		{name: "password too long", email: "a@example.com", password: strings.Repeat("p", 73), wantFields: map[string]string{"password": "must be at most 72 bytes (72 plain ASCII characters)"}},
		{name: "multibyte password over 72 bytes", email: "a@example.com", password: strings.Repeat("é", 37), wantFields: map[string]string{"password": "must be at most 72 bytes (72 plain ASCII characters)"}},
		{name: "first name too long", email: "a@example.com", password: "kettle-51-orbit", first: strings.Repeat("x", 65), wantFields: map[string]string{"name.first": "must be at most 64 characters"}},
		{name: "last name with control character", email: "a@example.com", password: "kettle-51-orbit", last: "Doe\x00", wantFields: map[string]string{"name.last": "must not contain control characters"}},
		{name: "first name with a zero-width space", email: "a@example.com", password: "kettle-51-orbit", first: "An\u200bn", wantFields: map[string]string{"name.first": validation.DisplayTextProblem("An\u200bn")}},
		{name: "first name with five combining marks", email: "a@example.com", password: "kettle-51-orbit", first: "Ana\u0301\u0302\u0303\u0304\u0305", wantFields: map[string]string{"name.first": validation.DisplayTextProblem("a\u0301\u0302\u0303\u0304")}},
		{name: "email with a bidirectional override", email: "a\u202e@example.com", password: "kettle-51-orbit", wantFields: map[string]string{"email": validation.HiddenCharacterProblem("\u202e")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewRegistration(tt.email, tt.password, domain.Name{First: tt.first, Last: tt.last})
			assertFields(t, err, tt.wantFields)
		})
	}
}

func TestNewRegistration_Normalises(t *testing.T) {
	t.Parallel()
	r, err := domain.NewRegistration("  Alice@Example.COM ", " pass word ", domain.Name{First: " Alice ", Last: ""})
	if err != nil {
		t.Fatal(err)
	}
	if r.Email() != "alice@example.com" || r.Password() != " pass word " || r.Name() != (domain.Name{First: "Alice"}) {
		t.Errorf("got %q %q %+v", r.Email(), r.Password(), r.Name())
	}
}

func TestNewCredentials_OnlyRequiresPresence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		email      string
		password   string
		wantFields map[string]string
	}{
		{name: "present", email: "A@example.com ", password: "short"},
		{name: "missing both", wantFields: map[string]string{"email": "is required", "password": "is required"}},
		{name: "missing password", email: "a@example.com", wantFields: map[string]string{"password": "is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := domain.NewCredentials(tt.email, tt.password)
			assertFields(t, err, tt.wantFields)
			if err == nil && c.Email() != "a@example.com" {
				t.Errorf("email %q not normalised", c.Email())
			}
		})
	}
}

func TestNewUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		id         string
		email      string
		firstName  string
		wantFields map[string]string
	}{
		{name: "valid", id: validID, email: "Alice@Example.com"},
		{name: "upper-case id", id: strings.ToUpper(validID), email: "a@example.com"},
		{name: "long name from Kratos is kept", id: validID, email: "a@example.com", firstName: strings.Repeat("x", 100)},
		{name: "nil uuid", id: "00000000-0000-0000-0000-000000000000", email: "a@example.com", wantFields: map[string]string{"id": "must be a non-zero UUID"}},
		{name: "not a uuid", id: "42", email: "a@example.com", wantFields: map[string]string{"id": "must be a non-zero UUID"}},
		{name: "urn form", id: "urn:uuid:" + validID, email: "a@example.com", wantFields: map[string]string{"id": "must be a non-zero UUID"}},
		{name: "bad email", id: validID, email: "nope", wantFields: map[string]string{"email": "must be a valid email address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := domain.NewUser(tt.id, tt.email, domain.Name{First: tt.firstName})
			assertFields(t, err, tt.wantFields)
			if err == nil && (u.ID() != validID || u.Email() != strings.ToLower(tt.email) || u.Name().First != tt.firstName) {
				t.Errorf("user %q %q %+v", u.ID(), u.Email(), u.Name())
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{" Alice@Example.COM\t", "alice@example.com"},
		{"bob@example.com", "bob@example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := domain.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func assertFields(t *testing.T, err error, want map[string]string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("error = %v, want none", err)
		}
		return
	}
	e, ok := apierr.As(err)
	if !ok || e.Kind != apierr.KindInvalid || e.Code != "validation_failed" {
		t.Fatalf("error = %v, want validation_failed", err)
	}
	got := make(map[string]string)
	for _, f := range e.Fields {
		got[f.Field] = f.Message
	}
	if len(got) != len(want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	for field, msg := range want {
		if got[field] != msg {
			t.Errorf("field %s: %q, want %q", field, got[field], msg)
		}
	}
}
