package validation_test

import (
	"strings"
	"testing"

	"github.com/ticketing/ticketing/pkg/validation"
)

// textCase is a text and whether DisplayTextProblem accepts it.
type textCase struct {
	Name    string
	Text    string
	OK      bool
	Problem string // part of the problem's wording, when refused
}

// displayTextCases is the table DisplayTextProblem is tested with; the
// identity schema's name pattern is tested with the same one.
var displayTextCases = []textCase{
	{Name: "plain", Text: "Opera night", OK: true},
	{Name: "accents, precomposed", Text: "Café Zoë", OK: true},
	{Name: "accents, combining", Text: "Cafe\u0301 Zoe\u0308", OK: true},
	{Name: "Vietnamese, two marks", Text: "Nguye\u0302\u0303n", OK: true},
	{Name: "three marks", Text: "a\u0301\u0302\u0303", OK: true},
	{Name: "Greek, Arabic, Devanagari, CJK", Text: "Ελληνικά عربى हिन्दी 東京", OK: true},
	{Name: "emoji with a variation selector", Text: "Gig \u2764\ufe0f", OK: true},
	{Name: "punctuation only", Text: "!!!", OK: true},
	{Name: "a space inside", Text: "A B", OK: true},
	{Name: "four marks in a row", Text: "a\u0301\u0302\u0303\u0304", Problem: "combining marks"},
	{Name: "marks piled at the start", Text: "\u0301\u0302\u0303\u0304a", Problem: "combining marks"},
	{Name: "only marks", Text: "\u0301\u0302", Problem: "visible"},
	{Name: "zero-width space", Text: "Opera\u200bnight", Problem: "format"},
	{Name: "zero-width joiner", Text: "Op\u200dera", Problem: "format"},
	{Name: "right-to-left override", Text: "Opera \u202enight", Problem: "format"},
	{Name: "left-to-right isolate", Text: "Opera \u2066night", Problem: "format"},
	{Name: "byte order mark", Text: "\ufeffOpera", Problem: "format"},
	{Name: "soft hyphen", Text: "Op\u00adera", Problem: "format"},
	{Name: "line separator", Text: "Opera\u2028night", Problem: "separator"},
	{Name: "paragraph separator", Text: "Opera\u2029night", Problem: "separator"},
	{Name: "tab", Text: "Opera\tnight", Problem: "control"},
	{Name: "NUL", Text: "Opera\x00", Problem: "control"},
	{Name: "Hangul fillers only", Text: "\u3164\u3164\u3164", Problem: "visible"},
	{Name: "blank Braille only", Text: "\u2800\u2800", Problem: "visible"},
	{Name: "spaces only", Text: "\u00a0\u2003 ", Problem: "visible"},
	{Name: "empty", Text: "", Problem: "visible"},
}

func TestDisplayTextProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range displayTextCases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			got := validation.DisplayTextProblem(tc.Text)
			if (got == "") != tc.OK {
				t.Fatalf("DisplayTextProblem(%+q) = %q, want accepted: %v", tc.Text, got, tc.OK)
			}
			if tc.Problem != "" && !strings.Contains(got, tc.Problem) {
				t.Fatalf("DisplayTextProblem(%+q) = %q, want it to say %q", tc.Text, got, tc.Problem)
			}
		})
	}
}

func TestHiddenCharacterProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, problem string
	}{
		{"plain email", "ann@example.com", ""},
		{"non-ASCII letters", "zoë@example.com", ""},
		{"invalid UTF-8", "ann\xff@example.com", "UTF-8"},
		{"NUL", "ann\x00@example.com", "control"},
		{"bidi override", "ann\u202e@example.com", "format"},
		{"zero-width joiner", "an\u200dn@example.com", "format"},
		{"soft hyphen", "an\u00adn@example.com", "format"},
		{"line separator", "ann\u2028@example.com", "separator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := validation.HiddenCharacterProblem(tc.text)
			if (got == "") != (tc.problem == "") || !strings.Contains(got, tc.problem) {
				t.Fatalf("HiddenCharacterProblem(%+q) = %q, want %q", tc.text, got, tc.problem)
			}
		})
	}
}
