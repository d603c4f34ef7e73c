// Package pattern is a small backtracking regular-expression engine for the subset of
// Oniguruma (Ruby syntax) that tokenizer.json Split pre-tokenizers use, with Perl/Oniguruma
// semantics: alternation is leftmost-first (the first alternative that lets the whole
// pattern match wins), quantifiers are greedy and give back one character at a time, and
// lookahead is a zero-width atomic test.
//
// Supported: literals; the escapes \t \n \r \f \v \a \e \xHH \x{H..} \uHHHH and escaped
// punctuation; the shorthands \s \S \d \D \w \W \h \H; \p{Name}, \P{Name} and \p{^Name} for
// the Unicode general categories (L, Lu, …, N, Nd, …, M, Mn, …, P…, S…, Z…, C…, also the long
// names Letter, Mark, Number, …) and scripts (Han, Latin, …); "."; classes [...] with
// negation, ranges, escapes and \p inside; groups (...) and (?:...); case-insensitive groups
// (?i:...) and (?-i:...); alternation; the greedy quantifiers ? * + {n} {n,} {,m} {n,m};
// lookahead (?=...) and (?!...). Anything else (back-references, lookbehind, atomic groups,
// named groups, lazy or possessive quantifiers, anchors, inline option switches, nested
// classes and class intersection) is refused by Compile with an error naming the construct
// and its byte offset. An unbounded quantifier on a group that can match the empty string
// is refused as well (it would need Oniguruma's empty-loop check).
//
// Character semantics are Oniguruma's for UTF-8: \s is U+0009–U+000D, U+0085 and the
// categories Zs, Zl, Zp (equal to Unicode White_Space); \d is Nd; \w is L, M, Nd and Pc;
// "." is any character but "\n". Case-insensitive matching uses simple case folding
// (unicode.SimpleFold orbits, so (?i:s) also matches U+017F); multi-character folds are not
// applied. \p{L}, \p{N} and \p{M} (and so \w) are the reference's Unicode 16.0 sets, generated
// into tables.go by gen_tables.go from the code-point sweep of the pinned tokenizers
// (testdata/tokenizer/qwen3.5.codepoints.json); the other categories and scripts use Go's
// unicode package (Unicode 15.0).
//
// How `\s+(?!\S)` is matched: \s+ first takes the whole run of white space, then the
// negative lookahead tests the position after it; if a non-space character follows, the run
// gives back one character at a time until the lookahead holds (so in "a   b" it matches two
// of the three spaces, leaving the last one to be taken by a following alternative such as
// ` ?\p{L}+`), or fails when the run would become empty. At the end of the text the
// lookahead holds at once and the whole run matches. This is plain backtracking, exactly as
// Oniguruma does it; nothing is special-cased.
//
// Speed: the pattern is compiled to a small instruction program; a greedy repeat of a
// single character class is one instruction that scans forward and backtracks by stepping
// back one rune, so the engine uses one backtrack frame per repeat rather than per
// character. Each class has an ASCII bitmap and a bitmap for the Basic Multilingual Plane
// computed at compile time; only astral code points evaluate the Unicode tables. Matching
// allocates nothing once a Machine's stack has grown.
//
// Bound: one search backtracks at most [MaxBacktracks] times (Oniguruma's default retry
// limit); past it the search stops and Machine.Exceeded is set, so a pathological pattern in
// a tokenizer.json gives an error instead of running for ever.
package pattern
