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

// blankBraille is the blank Braille pattern: Unicode files it as a symbol,
// yet it renders as nothing, so text made only of it looks empty.
const blankBraille = '\u2800'

// HiddenCharacterProblem says what is wrong with text that must not hide
// anything from its reader, or "": it must be valid UTF-8 and hold no
// character that renders as nothing or as nothing agreed (see hiddenRune)
// and no variation selector. Emails and everything displayed obey it.
func HiddenCharacterProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		if p := hiddenRune(r); p != "" {
			return p
		}
		if unicode.Is(unicode.Variation_Selector, r) {
			return variationSelectorProblem(r)
		}
	}
	return ""
}

// DisplayTextProblem says what is wrong with a text other users will read
// (a ticket's title, a user's name), or "": HiddenCharacterProblem's rules,
// except that one variation selector may follow a symbol (an emoji's text
// or emoji presentation, ❤︎ or ❤️, which looks different), at least one
// visible character (a letter, digit, punctuation or symbol that is not
// blank), and no run of more than MaxCombiningMarks combining marks. Length
// limits are the caller's.
//
// ory/kratos/identity.schema.json spells the same rule as a regular
// expression for names registered through Kratos; this package's tests
// keep the two in agreement.
func DisplayTextProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	visible, marks, prev := false, 0, rune(-1)
	for _, r := range s {
		if p := hiddenRune(r); p != "" {
			return p
		}
		switch {
		case unicode.Is(unicode.Variation_Selector, r):
			// Not a mark that stacks: it picks the glyph of the symbol
			// right before it, so the run of marks is not counted.
			if !unicode.Is(unicode.S, prev) {
				return variationSelectorProblem(r)
			}
		case unicode.Is(unicode.M, r):
			if marks++; marks > MaxCombiningMarks {
				return fmt.Sprintf("must not stack more than %d combining marks on one character", MaxCombiningMarks)
			}
		default:
			marks = 0
			visible = visible || !unicode.Is(unicode.Z, r) && r != blankBraille
		}
		prev = r
	}
	if !visible {
		return "must contain a visible character"
	}
	return ""
}

// hiddenRune says why r may not appear in text a person reads, or "".
// Besides control, format (Cf: zero-width spaces and joiners, bidirectional
// overrides and isolates, soft hyphens) and separator characters, that is
// the default-ignorable ones that are not Cf (the combining grapheme
// joiner, Hangul fillers, Khmer inherent vowels), which renderers draw as
// nothing, so "Bob" and "Bob\u034f" look the same; private-use characters,
// which look like whatever a font makes of them; and unassigned code points
// and noncharacters, which have no appearance yet (a later Unicode version
// may give them one, even an invisible one).
func hiddenRune(r rune) string {
	switch {
	case unicode.Is(unicode.Cc, r):
		return "must not contain control characters"
	case unicode.Is(unicode.Cf, r):
		return fmt.Sprintf("must not contain invisible format characters such as U+%04X (zero-width or bidirectional controls)", r)
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "must not contain line or paragraph separators"
	case unicode.Is(unicode.Co, r):
		return fmt.Sprintf("must not contain private-use characters such as U+%04X", r)
	case unicode.Is(unicode.C, r):
		// What is left of C (Other) once Cc, Cf and Co are refused is Cn:
		// unassigned code points, noncharacters among them (surrogates
		// are not valid UTF-8).
		return fmt.Sprintf("must not contain unassigned code points or noncharacters such as U+%04X", r)
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return fmt.Sprintf("must not contain invisible characters such as U+%04X (combining grapheme joiner, Hangul filler)", r)
	}
	return ""
}

func variationSelectorProblem(r rune) string {
	return fmt.Sprintf("must not contain a variation selector (U+%04X) except one right after a symbol", r)
}
