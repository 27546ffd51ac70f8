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
	{Name: "Hangul fillers only", Text: "\u3164\u3164\u3164", Problem: "invisible"},
	{Name: "blank Braille only", Text: "\u2800\u2800", Problem: "visible"},
	{Name: "spaces only", Text: "\u00a0\u2003 ", Problem: "visible"},
	{Name: "emoji text presentation", Text: "Gig \u2764\ufe0e", OK: true},
	{Name: "ideograph with an ideographic variation selector", Text: "\u845b\U000E0100\u98fe", Problem: "variation selector"},
	{Name: "symbol, variation selector, then marks", Text: "\u2764\ufe0f\u0301\u0302\u0303", OK: true},
	{Name: "combining grapheme joiner", Text: "Bob\u034f\u034f\u034f", Problem: "invisible"},
	{Name: "one combining grapheme joiner", Text: "Bo\u034fb", Problem: "invisible"},
	{Name: "Khmer inherent vowel", Text: "Bob\u17b4", Problem: "invisible"},
	{Name: "Hangul filler beside letters", Text: "Bob\u3164", Problem: "invisible"},
	{Name: "halfwidth Hangul filler beside letters", Text: "Bob\uffa0", Problem: "invisible"},
	{Name: "Mongolian free variation selector after a Latin letter", Text: "Bob\u180b", Problem: "variation selector"},
	{Name: "variation selector after a letter", Text: "Bob\ufe0f", Problem: "variation selector"},
	{Name: "ideographic variation selector after a letter", Text: "Bob\U000E0100", Problem: "variation selector"},
	{Name: "two variation selectors", Text: "Gig \u2764\ufe0f\ufe0f", Problem: "variation selector"},
	{Name: "variation selector after a mark", Text: "Gig \u2764\u0301\ufe0f", Problem: "variation selector"},
	{Name: "variation selector first", Text: "\ufe0fGig", Problem: "variation selector"},
	{Name: "noncharacter U+FFFF", Text: "Bob\uffff", Problem: "unassigned"},
	{Name: "noncharacter U+FDD0", Text: "Bob\ufdd0", Problem: "unassigned"},
	{Name: "noncharacter U+1FFFE", Text: "Bob\U0001fffe", Problem: "unassigned"},
	{Name: "unassigned U+0378", Text: "Bob\u0378", Problem: "unassigned"},
	{Name: "unassigned tag space U+E0080", Text: "Bob\U000E0080", Problem: "unassigned"},
	{Name: "private use", Text: "Bob\ue000", Problem: "private-use"},
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
		{"combining grapheme joiner", "ann\u034f@example.com", "invisible"},
		{"variation selector", "ann\ufe0f@example.com", "variation selector"},
		{"noncharacter", "ann\uffff@example.com", "unassigned"},
		{"unassigned", "ann\u0378@example.com", "unassigned"},
		{"private use", "ann\ue000@example.com", "private-use"},
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
