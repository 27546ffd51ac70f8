package domain

import "github.com/ticketing/ticketing/pkg/apierr"

// Registration is valid sign-up input: checked here first so that most bad
// input never reaches Kratos.
type Registration struct {
	email    string
	password string
	name     Name
}

// NewRegistration validates sign-up input and reports every problem at once,
// each naming its field ("email", "password", "name.first", "name.last").
func NewRegistration(email, password string, name Name) (Registration, error) {
	email, name = NormalizeEmail(email), name.trimmed()
	var problems []apierr.FieldError
	for _, check := range []struct{ field, problem string }{
		{"email", emailProblem(email)},
		{"password", PasswordProblem(password)},
		{"name.first", nameProblem(name.First)},
		{"name.last", nameProblem(name.Last)},
	} {
		if check.problem != "" {
			problems = append(problems, apierr.Field(check.field, check.problem))
		}
	}
	if len(problems) > 0 {
		return Registration{}, apierr.Validation(problems...)
	}
	return Registration{email: email, password: password, name: name}, nil
}

// Email is the normalised email.
func (r Registration) Email() string { return r.email }

// Password is the password, exactly as given.
func (r Registration) Password() string { return r.password }

// Name is the trimmed name; zero when none was given.
func (r Registration) Name() Name { return r.name }

// ErrInvalidCredentials is a refused sign-in; it never says which part was
// wrong.
var ErrInvalidCredentials = apierr.Invalid("invalid_credentials", "the email or password is incorrect")

// Credentials is sign-in input: an email and a password, both present. They
// are not checked against the sign-up rules, so a refusal never tells which
// part was wrong.
type Credentials struct {
	email    string
	password string
}

// NewCredentials validates sign-in input.
func NewCredentials(email, password string) (Credentials, error) {
	email = NormalizeEmail(email)
	var problems []apierr.FieldError
	if email == "" {
		problems = append(problems, apierr.Field("email", "is required"))
	}
	if password == "" {
		problems = append(problems, apierr.Field("password", "is required"))
	}
	if len(problems) > 0 {
		return Credentials{}, apierr.Validation(problems...)
	}
	return Credentials{email: email, password: password}, nil
}

// Email is the normalised email.
func (c Credentials) Email() string { return c.email }

// Password is the password, exactly as given.
func (c Credentials) Password() string { return c.password }
