package validation

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxCombiningMarks is the longest run of combining marks (Unicode M) a
// displayed text may hold: enough for any real script (Vietnamese stacks
// two, some Indic clusters three), too few to pile marks over the
// neighbouring lines ("Zalgo" text).
const MaxCombiningMarks = 3

// blankLetters are characters Unicode files as letters or symbols that
// render as nothing: Hangul fillers and the blank Braille pattern. Text made
// only of them looks empty.
var blankLetters = []rune{'\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800'}

// HiddenCharacterProblem says what is wrong with text that must not hide
// anything from its reader, or "": it must be valid UTF-8 and hold no
// control characters (Cc), no format characters (Cf: zero-width spaces and
// joiners, bidirectional overrides and isolates, soft hyphens) and no line
// or paragraph separators (Zl, Zp). Emails and everything displayed obey
// it.
func HiddenCharacterProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cc, r):
			return "must not contain control characters"
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("must not contain invisible format characters such as U+%04X (zero-width or bidirectional controls)", r)
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return "must not contain line or paragraph separators"
		}
	}
	return ""
}

// DisplayTextProblem says what is wrong with a text other users will read
// (a ticket's title, a user's name), or "": HiddenCharacterProblem's rules,
// at least one visible character (a letter, digit, punctuation or symbol
// that is not blank), and no run of more than MaxCombiningMarks combining
// marks. Length limits are the caller's.
//
// ory/kratos/identity.schema.json spells the same rule as a regular
// expression for names registered through Kratos; this package's tests
// keep the two in agreement.
func DisplayTextProblem(s string) string {
	if p := HiddenCharacterProblem(s); p != "" {
		return p
	}
	visible, marks := false, 0
	for _, r := range s {
		if unicode.Is(unicode.M, r) {
			if marks++; marks > MaxCombiningMarks {
				return fmt.Sprintf("must not stack more than %d combining marks on one character", MaxCombiningMarks)
			}
			continue
		}
		marks = 0
		visible = visible || isVisible(r)
	}
	if !visible {
		return "must contain a visible character"
	}
	return ""
}

func isVisible(r rune) bool {
	if unicode.In(r, unicode.Z, unicode.C, unicode.M) {
		return false
	}
	for _, b := range blankLetters {
		if r == b {
			return false
		}
	}
	return true
}
