package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Auth's pass-through reads each Kratos self-service submission for the
// account it names and the password it sets; Kratos then reads the same
// body itself. These tests send bodies the two could read differently and
// assert that the pass-through refuses them rather than count the wrong
// account, or none.

// sendRaw posts body as it is, with each Content-Type in contentTypes as a
// header line of its own.
func (v *visitor) sendRaw(t testing.TB, path, body string, contentTypes []string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest("POST", baseURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range contentTypes {
		req.Header.Add("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// submitRaw starts an API flow of kind and submits body to it as JSON.
func (v *visitor) submitRaw(t testing.TB, kind, body string, headers map[string]string) response {
	t.Helper()
	f := v.startFlowWith(t, kind, headers)
	return v.sendRaw(t, "/.ory/kratos/self-service/"+kind+"?flow="+f.ID, body, []string{"application/json"}, headers)
}

// startFlowWith starts an API flow of kind, sending headers (a session
// token for settings).
func (v *visitor) startFlowWith(t testing.TB, kind string, headers map[string]string) kratosFlow {
	t.Helper()
	h := map[string]string{"Accept": "application/json"}
	for k, val := range headers {
		h[k] = val
	}
	var f kratosFlow
	v.send(t, "GET", "/.ory/kratos/self-service/"+kind+"/api", nil, h).wantStatus(t, http.StatusOK).decode(t, &f)
	if f.ID == "" {
		t.Fatalf("%s flow without id", kind)
	}
	return f
}

// TestKratosLogin_EveryIdentifierFieldBackedOff: Kratos' login reads the
// account from `identifier` or, failing that, the legacy
// `password_identifier`; wrong passwords naming the account in either are
// backed off alike, and the owner elsewhere still signs in.
func TestKratosLogin_EveryIdentifierFieldBackedOff(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"password_identifier", "alternating"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			owner := signUp(t, "legacy-id")
			field := func(i int) string {
				if name == "alternating" && i%2 == 0 {
					return "identifier"
				}
				return "password_identifier"
			}
			attacker := newVisitor(t)
			login := func(v *visitor, i int, password string) response {
				f := v.startFlow(t, "login", apiFlow)
				return v.submit(t, "login", apiFlow, f, map[string]string{"method": "password", field(i): owner.Email, "password": password})
			}
			attack(t, "/.ory/kratos/self-service/login ("+name+")", http.StatusBadRequest, func(i int) response {
				return login(attacker, i, "not-the-password")
			})
			want429(t, login(attacker, 1, owner.Password))
			login(newVisitor(t), 1, owner.Password).wantStatus(t, http.StatusOK)
		})
	}
}

// TestKratosLogin_RefusesUnattributableSubmissions: a password login the
// pass-through cannot pin to one account — none named, two different ones,
// a key Kratos would not read as the identifier — is refused before Kratos
// checks the password.
func TestKratosLogin_RefusesUnattributableSubmissions(t *testing.T) {
	t.Parallel()
	v := newVisitor(t)
	decoy, victim := uniqueEmail("decoy"), uniqueEmail("victim")
	tests := []struct {
		name, body, field string
	}{
		{"no identifier", `{"method":"password","password":"not-the-password"}`, "identifier"},
		{"blank identifier", `{"method":"password","identifier":"   ","password":"not-the-password"}`, "identifier"},
		{"identifiers disagree", fmt.Sprintf(`{"method":"password","identifier":%q,"password_identifier":%q,"password":"x"}`, decoy, victim), "password_identifier"},
		{"identifier in another letter case", fmt.Sprintf(`{"method":"password","Identifier":%q,"password_identifier":%q,"password":"x"}`, decoy, victim), "identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.submitRaw(t, "login", tt.body, nil).wantError(t, http.StatusBadRequest, "validation_failed", tt.field)
		})
	}
	// The same through a browser's form.
	f := v.startFlow(t, "login", browserFormFlow)
	v.sendRaw(t, "/.ory/kratos/self-service/login?flow="+f.ID,
		"csrf_token="+url.QueryEscape(f.csrf())+"&method=password&identifier="+decoy+"&password_identifier="+victim+"&password=x",
		[]string{"application/x-www-form-urlencoded"}, nil).
		wantError(t, http.StatusBadRequest, "validation_failed", "password_identifier")
}

// differentialContentType is read as a form by a parser that cuts at ';'
// and as JSON by one that splits on ','.
const differentialContentType = "application/x-www-form-urlencoded; a=b,application/json"

// TestKratosSubmission_ContentTypeReadStrictly: a submission has exactly
// one Content-Type, application/json or a form, in UTF-8; anything else is
// refused with 415, so that the pass-through and Kratos never pick
// different parsers for one body.
func TestKratosSubmission_ContentTypeReadStrictly(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "ctype")
	tests := []struct {
		name, kind   string
		contentTypes []string
		body         string
	}{
		{"login, a form and JSON", "login", []string{differentialContentType},
			fmt.Sprintf(`{"method":"password","identifier":%q,"password":"not-the-password"}`, owner.Email)},
		{"registration of a common password, a form and JSON", "registration", []string{differentialContentType},
			fmt.Sprintf(`{"method":"password","password":"password1234","traits":{"email":%q}}`, uniqueEmail("ctype-weak"))},
		{"two Content-Type lines", "login", []string{"application/x-www-form-urlencoded", "application/json"},
			fmt.Sprintf(`{"method":"password","identifier":%q,"password":"not-the-password"}`, owner.Email)},
		{"a charset other than UTF-8", "login", []string{"application/json; charset=iso-8859-1"},
			fmt.Sprintf(`{"method":"password","identifier":%q,"password":"not-the-password"}`, owner.Email)},
		{"unparseable parameters", "login", []string{"application/json; charset"},
			fmt.Sprintf(`{"method":"password","identifier":%q,"password":"not-the-password"}`, owner.Email)},
		{"multipart", "login", []string{"multipart/form-data; boundary=x"}, "--x--"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVisitor(t)
			f := v.startFlowWith(t, tt.kind, nil)
			v.sendRaw(t, "/.ory/kratos/self-service/"+tt.kind+"?flow="+f.ID, tt.body, tt.contentTypes, nil).
				wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		})
	}
	t.Run("JSON in UTF-8 named so signs in", func(t *testing.T) {
		t.Parallel()
		v := newVisitor(t)
		f := v.startFlowWith(t, "login", nil)
		v.sendRaw(t, "/.ory/kratos/self-service/login?flow="+f.ID,
			fmt.Sprintf(`{"method":"password","identifier":%q,"password":%q}`, owner.Email, owner.Password),
			[]string{"Application/JSON; charset=UTF-8"}, nil).wantStatus(t, http.StatusOK)
	})
}

// TestKratosSubmission_FieldsMustBeStrings: every field the pass-through
// reads is a JSON string, and the object holding one (traits) an object.
// Kratos turns a number into text of its own making (12345678e0 is stored
// as the password "12345678") and reads traits given as a string as JSON,
// so any other type would let the pass-through check one value while Kratos
// uses another.
func TestKratosSubmission_FieldsMustBeStrings(t *testing.T) {
	t.Parallel()
	owner := signUp(t, "types")
	reg := func(password, traits string) string {
		return fmt.Sprintf(`{"method":"password","password":%s,"traits":%s}`, password, traits)
	}
	email := func() string { return fmt.Sprintf(`{"email":%q}`, uniqueEmail("types")) }
	tests := []struct {
		name, kind, body, field string
	}{
		{"registration, password 12345678e0", "registration", reg("12345678e0", email()), "password"},
		{"registration, password 1234567.8e1", "registration", reg("1234567.8e1", email()), "password"},
		{"registration, password 123456789.0", "registration", reg("123456789.0", email()), "password"},
		{"registration, password true", "registration", reg("true", email()), "password"},
		{"registration, password an array", "registration", reg(`["correct-horse-battery-staple"]`, email()), "password"},
		{"registration, password null", "registration", reg("null", email()), "password"},
		{"registration, email a number", "registration", reg(`"`+goodPassword+`"`, `{"email":12345}`), "traits.email"},
		{"registration, email an array", "registration", reg(`"`+goodPassword+`"`, fmt.Sprintf(`{"email":[%q]}`, uniqueEmail("types"))), "traits.email"},
		{"registration, traits a string of JSON", "registration", reg(`"`+goodPassword+`"`, fmt.Sprintf("%q", email())), "traits"},
		{"login, identifier a number", "login", `{"method":"password","identifier":12345,"password":"x"}`, "identifier"},
		{"login, password_identifier an array", "login", fmt.Sprintf(`{"method":"password","password_identifier":[%q],"password":"x"}`, owner.Email), "password_identifier"},
		{"login, password a number", "login", fmt.Sprintf(`{"method":"password","identifier":%q,"password":12345678}`, owner.Email), "password"},
		{"login, method an object", "login", fmt.Sprintf(`{"method":{"a":"password"},"identifier":%q,"password":"x"}`, owner.Email), "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			newVisitor(t).submitRaw(t, tt.kind, tt.body, nil).wantError(t, http.StatusBadRequest, "validation_failed", tt.field)
		})
	}
	t.Run("settings, password 12345678e0", func(t *testing.T) {
		t.Parallel()
		user := signUp(t, "types-settings")
		token := map[string]string{"X-Session-Token": user.Token}
		newVisitor(t).submitRaw(t, "settings", `{"method":"password","password":12345678e0}`, token).
			wantError(t, http.StatusBadRequest, "validation_failed", "password")
		newVisitor(t).signIn(t, user.Email, "12345678").wantStatus(t, http.StatusBadRequest)
	})
}

// TestKratosSubmission_FormsReadAsKratosReadsThem: a form names each field
// once, by its flattened name; Kratos would read a whole `traits` field as
// JSON, and a method named in another letter case sets no password the
// pass-through could skip checking.
func TestKratosSubmission_FormsReadAsKratosReadsThem(t *testing.T) {
	t.Parallel()
	victim := uniqueEmail("form-victim")
	tests := []struct {
		name, kind, body, field string
	}{
		{"traits as JSON in a form", "registration",
			"method=password&password=" + goodPassword + "&traits=" + `{"email":"` + victim + `"}`, "traits"},
		{"traits as JSON beside traits.email", "registration",
			"method=password&password=" + goodPassword + "&traits.email=" + uniqueEmail("decoy") + "&traits=" + `{"email":"` + victim + `"}`, "traits"},
		{"an encoded key naming another value", "login",
			"method=password&identifier=" + uniqueEmail("decoy") + "&%69dentifier=" + victim + "&password=x", "identifier"},
		{"a common password under method Password", "registration",
			"method=Password&password=password1234&traits.email=" + uniqueEmail("form-case"), "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVisitor(t)
			f := v.startFlow(t, tt.kind, browserFormFlow)
			body := strings.ReplaceAll(strings.ReplaceAll(tt.body, "@", "%40"), `"`, "%22")
			v.sendRaw(t, "/.ory/kratos/self-service/"+tt.kind+"?flow="+f.ID, "csrf_token="+url.QueryEscape(f.csrf())+"&"+body,
				[]string{"application/x-www-form-urlencoded"}, nil).
				wantError(t, http.StatusBadRequest, "validation_failed", tt.field)
		})
	}
}
