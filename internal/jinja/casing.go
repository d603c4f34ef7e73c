package jinja

import (
	"strings"
	"unicode"
)

// Python's full case mappings: the multi-code-point ones from
// casing_table.go, final sigma in lower, Go's simple mappings otherwise.

func isCasedRune(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// isCaseIgnorable approximates Unicode's Case_Ignorable: marks, format
// characters, modifier letters and symbols, and the word-internal
// punctuation ' . : · and friends.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xAD, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

func pyUpper(s string) string {
	var b strings.Builder
	for _, r := range s {
		if m, ok := upperSpecial[r]; ok {
			b.WriteString(m)
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// lowerRunes lowers rs[from:] (rs is the whole string, for the final sigma
// context) into b.
func lowerRunes(b *strings.Builder, rs []rune, from int) {
	for i := from; i < len(rs); i++ {
		r := rs[i]
		if r == 0x3A3 {
			b.WriteRune(sigma(rs, i))
			continue
		}
		if m, ok := lowerSpecial[r]; ok {
			b.WriteString(m)
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
	}
}

// sigma is the lower case of the capital sigma at rs[i]: final (ς) after
// a cased letter and not before one, case-ignorables skipped; else σ.
func sigma(rs []rune, i int) rune {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCasedRune(rs[j]) {
		return 0x3C3
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	if j == len(rs) || !isCasedRune(rs[j]) {
		return 0x3C2
	}
	return 0x3C3
}

func pyLower(s string) string {
	var b strings.Builder
	lowerRunes(&b, []rune(s), 0)
	return b.String()
}

func writeTitle(b *strings.Builder, r rune) {
	if m, ok := titleSpecial[r]; ok {
		b.WriteString(m)
	} else {
		b.WriteRune(unicode.ToTitle(r))
	}
}

// pyTitle is str.title: a character after a cased one is lowered, any
// other is title-cased.
func pyTitle(s string) string {
	var b strings.Builder
	rs := []rune(s)
	prev := false
	for i, r := range rs {
		if prev {
			if r == 0x3A3 {
				b.WriteRune(sigma(rs, i))
			} else if m, ok := lowerSpecial[r]; ok {
				b.WriteString(m)
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
		} else {
			writeTitle(&b, r)
		}
		prev = isCasedRune(r)
	}
	return b.String()
}

// pyCapitalize is str.capitalize: the first character title-cased, the
// rest lowered.
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	writeTitle(&b, rs[0])
	lowerRunes(&b, rs, 1)
	return b.String()
}
