package validation_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/ticketing/ticketing/pkg/validation"
)

// identitySchema is Kratos' identity schema: browsers and apps register
// through Kratos directly, so its patterns must refuse what sign-up
// refuses. Kratos compiles them with Go's regexp package, as this test does.
const identitySchema = "../../ory/kratos/identity.schema.json"

func TestIdentitySchema_PatternsAgreeWithTheRules(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(identitySchema)
	if err != nil {
		t.Fatal(err)
	}
	type stringProp struct {
		Pattern string `json:"pattern"`
	}
	var schema struct {
		Properties struct {
			Traits struct {
				Properties struct {
					Email stringProp `json:"email"`
					Name  struct {
						Properties struct {
							First stringProp `json:"first"`
							Last  stringProp `json:"last"`
						} `json:"properties"`
					} `json:"name"`
				} `json:"properties"`
			} `json:"traits"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	traits := schema.Properties.Traits.Properties
	names := map[string]string{"name.first": traits.Name.Properties.First.Pattern, "name.last": traits.Name.Properties.Last.Pattern}
	for field, pattern := range names {
		re := regexp.MustCompile(pattern)
		// An empty part is no name at all (sign-up drops it; browser
		// forms send it), not a blank one.
		if !re.MatchString("") {
			t.Errorf("%s pattern refuses an empty (absent) name", field)
		}
		for _, tc := range displayTextCases {
			if tc.Text != "" && re.MatchString(tc.Text) != tc.OK {
				t.Errorf("%s pattern on %s %+q: match %v, DisplayTextProblem accepts: %v", field, tc.Name, tc.Text, !tc.OK, tc.OK)
			}
		}
	}
	email := regexp.MustCompile(traits.Email.Pattern)
	for _, text := range []string{"ann@example.com", "zoë@example.com", "ann\u202e@example.com", "an\u200bn@example.com", "ann\x00@example.com", "ann\u2029@example.com",
		"ann\u034f@example.com", "ann\ufe0f@example.com", "ann\u17b4@example.com", "ann\u3164@example.com", "ann\uffff@example.com", "ann\u0378@example.com", "ann\ue000@example.com"} {
		if email.MatchString(text) != (validation.HiddenCharacterProblem(text) == "") {
			t.Errorf("email pattern on %+q: match %v, HiddenCharacterProblem %q", text, email.MatchString(text), validation.HiddenCharacterProblem(text))
		}
	}
}
