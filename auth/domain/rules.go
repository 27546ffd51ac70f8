package domain

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/ticketing/ticketing/auth/domain/passwords"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/validation"
)

const (
	// MinPasswordLength matches Kratos' min_password_length.
	MinPasswordLength = 8
	// MaxPasswordBytes is bcrypt's limit: it ignores every byte past the 72nd,
	// so a longer password would be weaker than it looks.
	MaxPasswordBytes = 72
	// MaxNameLength bounds each part of a name, in characters.
	MaxNameLength  = 64
	maxEmailLength = 254
)

// NormalizeEmail is the form emails are stored, compared and sent to Kratos
// in: trimmed and lower-case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// emailProblem says what is wrong with a normalised email, or "". The rules
// are those of Kratos' "email" schema format, so that what passes here passes
// Kratos.
func emailProblem(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > maxEmailLength {
		return "must be at most 254 characters"
	}
	if p := validation.HiddenCharacterProblem(email); p != "" {
		return p
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at > 64 || !isHostname(email[at+1:]) {
		return "must be a valid email address"
	}
	if _, err := mail.ParseAddress(email); err != nil {
		return "must be a valid email address"
	}
	return ""
}

// isHostname applies RFC 1123's rules to an email's domain.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) < 1 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// CheckNewPassword applies the password rule to a password chosen anywhere
// else (Kratos' registration and settings flows): a validation error naming
// field, or nil.
func CheckNewPassword(field, password string) error {
	if problem := PasswordProblem(password); problem != "" {
		return apierr.Validation(apierr.Field(field, problem))
	}
	return nil
}

// PasswordProblem says what is wrong with a new password, or "": the rule
// of every path that sets a password (auth's sign-up, and Kratos'
// registration and settings submissions that auth passes through), so that
// none of them takes a password another refuses. Similarity to the email
// is left to Kratos, which checks it on every path against the identity's
// identifiers (identifier_similarity_check_enabled).
func PasswordProblem(password string) string {
	switch {
	case password == "":
		return "is required"
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return "must be at least 8 characters"
	case len(password) > MaxPasswordBytes:
		return "must be at most 72 bytes (72 plain ASCII characters)"
	case passwords.IsCommon(password):
		return "is too common: it is among the passwords attackers try first"
	}
	return ""
}

// nameProblem says what is wrong with a trimmed name part, or "". An empty
// part is no name at all; a given one is text other users read.
func nameProblem(part string) string {
	switch {
	case part == "":
		return ""
	case utf8.RuneCountInString(part) > MaxNameLength:
		return "must be at most 64 characters"
	}
	return validation.DisplayTextProblem(part)
}
