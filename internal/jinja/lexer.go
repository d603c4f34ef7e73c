package jinja

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer reproduces jinja2 3.1.6's with trim_blocks=True,
// lstrip_blocks=True and keep_trailing_newline=False (the environment
// transformers renders chat templates in):
//
//   - \r\n and \r become \n, and one trailing newline of the source is
//     dropped;
//   - "{%-", "{{-", "{#-" strip all whitespace (Python's str.isspace) before
//     the tag; "-%}", "-}}", "-#}" strip all whitespace after it;
//   - lstrip_blocks: before "{%" and "{#" (not "{{", and not "{%+"), the
//     spaces and tabs between the start of the line and the tag are removed;
//   - trim_blocks: one newline right after "%}" or "#}" is removed (not after
//     "+%}" nor after "}}").
//   - Inside a tag, "}}" and "%}" end it only when brackets are balanced.

type tokKind int

const (
	tData tokKind = iota
	tBlockBegin
	tBlockEnd
	tVarBegin
	tVarEnd
	tName
	tString
	tInt
	tFloat
	tOp
	tEOF
)

type token struct {
	kind tokKind
	val  string // data text, name, operator, unescaped string, number text
	pos  int    // byte offset in the normalised source
}

// lexer turns a normalised source into tokens.
type lexer struct {
	name  string
	src   string
	lines []int // byte offsets where lines start
	toks  []token
}

// normalise applies jinja2's newline handling.
func normalise(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.TrimSuffix(src, "\n")
}

func (lx *lexer) line(pos int) int {
	return sort.Search(len(lx.lines), func(i int) bool { return lx.lines[i] > pos })
}

func (lx *lexer) errf(pos int, format string, args ...any) error {
	return &Error{Name: lx.name, Line: lx.line(pos), Kind: Syntax, Msg: sprintf(format, args...)}
}

func isPySpaceString(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !pyIsSpace(r) {
			return false
		}
	}
	return true
}

func trimPySpaceLeft(s string) string  { return strings.TrimLeftFunc(s, pyIsSpace) }
func trimPySpaceRight(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// lex tokenises src (already normalised).
func lex(name, src string) ([]token, []int, error) {
	lx := &lexer{name: name, src: src, lines: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lx.lines = append(lx.lines, i+1)
		}
	}
	if err := lx.run(); err != nil {
		return nil, lx.lines, err
	}
	return lx.toks, lx.lines, nil
}

// findTag returns the offset of the next "{%", "{{" or "{#" at or after pos.
func findTag(s string, pos int) int {
	for {
		i := strings.IndexByte(s[pos:], '{')
		if i < 0 || pos+i+1 >= len(s) {
			return -1
		}
		c := s[pos+i+1]
		if c == '%' || c == '{' || c == '#' {
			return pos + i
		}
		pos += i + 1
	}
}

// rawBegin matches `{%[-+]?\s*raw\s*(-%}\s*|%})` at pos; it returns the end
// of the match and whether it matched.
func rawBegin(s string, pos int) (int, bool) {
	p := pos + 2
	if p < len(s) && (s[p] == '-' || s[p] == '+') {
		p++
	}
	p = skipSpace(s, p)
	if !strings.HasPrefix(s[p:], "raw") {
		return 0, false
	}
	p = skipSpace(s, p+3)
	if strings.HasPrefix(s[p:], "-%}") {
		p += 3
		return skipSpace(s, p), true
	}
	if strings.HasPrefix(s[p:], "%}") {
		return p + 2, true
	}
	return 0, false
}

func skipSpace(s string, p int) int {
	for p < len(s) {
		r, n := utf8.DecodeRuneInString(s[p:])
		if !pyIsSpace(r) {
			break
		}
		p += n
	}
	return p
}

// lstrip applies the whitespace control before a tag to the text before it.
func (lx *lexer) lstrip(text string, sign byte, variable, lineStarting bool) string {
	if sign == '-' {
		return trimPySpaceRight(text)
	}
	if sign == '+' || variable {
		return text
	}
	l := strings.LastIndexByte(text, '\n') + 1
	if (l > 0 || lineStarting) && isPySpaceString(text[l:]) {
		return text[:l]
	}
	return text
}

func (lx *lexer) emitData(text string, pos int) {
	if text != "" {
		lx.toks = append(lx.toks, token{kind: tData, val: text, pos: pos})
	}
}

func (lx *lexer) run() error {
	s := lx.src
	pos := 0
	lineStarting := true
	for pos < len(s) {
		t := findTag(s, pos)
		if t < 0 {
			lx.emitData(s[pos:], pos)
			break
		}
		text := s[pos:t]
		var sign byte
		if t+2 < len(s) && (s[t+2] == '-' || s[t+2] == '+') {
			sign = s[t+2]
		}
		kind := s[t+1]
		if kind == '%' {
			if end, ok := rawBegin(s, t); ok {
				lx.emitData(lx.lstrip(text, sign, false, lineStarting), pos)
				p, err := lx.raw(end)
				if err != nil {
					return err
				}
				lineStarting = p > 0 && s[p-1] == '\n'
				pos = p
				continue
			}
		}
		lx.emitData(lx.lstrip(text, sign, kind == '{', lineStarting), pos)
		p := t + 2
		if sign != 0 {
			p++
		}
		var err error
		switch kind {
		case '#':
			p, err = lx.comment(t, p)
		case '%':
			lx.toks = append(lx.toks, token{kind: tBlockBegin, pos: t})
			p, err = lx.tag(p, false)
		case '{':
			lx.toks = append(lx.toks, token{kind: tVarBegin, pos: t})
			p, err = lx.tag(p, true)
		}
		if err != nil {
			return err
		}
		lineStarting = p > 0 && s[p-1] == '\n'
		pos = p
	}
	lx.toks = append(lx.toks, token{kind: tEOF, pos: len(s)})
	return nil
}

// comment skips a comment whose body starts at p; it returns the offset
// after the end tag and its whitespace control.
func (lx *lexer) comment(start, p int) (int, error) {
	s := lx.src
	for i := p; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "+#}"):
			return i + 3, nil
		case strings.HasPrefix(s[i:], "-#}"):
			return skipSpace(s, i+3), nil
		case strings.HasPrefix(s[i:], "#}"):
			i += 2
			if i < len(s) && s[i] == '\n' {
				i++
			}
			return i, nil
		}
	}
	return 0, lx.errf(start, "Missing end of comment tag")
}

// raw copies the text of a raw block up to its endraw tag.
func (lx *lexer) raw(p int) (int, error) {
	s := lx.src
	for i := p; i < len(s); i++ {
		if !strings.HasPrefix(s[i:], "{%") {
			continue
		}
		q := i + 2
		var sign byte
		if q < len(s) && (s[q] == '-' || s[q] == '+') {
			sign = s[q]
			q++
		}
		q = skipSpace(s, q)
		if !strings.HasPrefix(s[q:], "endraw") {
			continue
		}
		q = skipSpace(s, q+6)
		end := -1
		switch {
		case strings.HasPrefix(s[q:], "+%}"):
			end = q + 3
		case strings.HasPrefix(s[q:], "-%}"):
			end = skipSpace(s, q+3)
		case strings.HasPrefix(s[q:], "%}"):
			end = q + 2
			if end < len(s) && s[end] == '\n' {
				end++
			}
		}
		if end < 0 {
			continue
		}
		// lstrip of the text before endraw: line_starting is the state
		// after the raw begin tag.
		ls := p > 0 && s[p-1] == '\n'
		lx.emitData(lx.lstrip(s[p:i], sign, false, ls), p)
		return end, nil
	}
	return 0, lx.errf(p, "Missing end of raw directive")
}

var operators = []string{
	"//", "**", "==", "!=", ">=", "<=",
	"+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
	">", "<", "=", ".", ":", "|", ",", ";",
}

// tag tokenises the inside of a block (variable=false) or variable tag
// from p up to and including its end; it returns the offset after it.
func (lx *lexer) tag(p int, variable bool) (int, error) {
	s := lx.src
	var stack []byte
	for {
		if p >= len(s) {
			return 0, lx.errf(len(s), "unexpected end of template")
		}
		if len(stack) == 0 {
			if variable {
				if strings.HasPrefix(s[p:], "-}}") {
					lx.toks = append(lx.toks, token{kind: tVarEnd, pos: p})
					return skipSpace(s, p+3), nil
				}
				if strings.HasPrefix(s[p:], "}}") {
					lx.toks = append(lx.toks, token{kind: tVarEnd, pos: p})
					return p + 2, nil
				}
			} else {
				if strings.HasPrefix(s[p:], "+%}") {
					lx.toks = append(lx.toks, token{kind: tBlockEnd, pos: p})
					return p + 3, nil
				}
				if strings.HasPrefix(s[p:], "-%}") {
					lx.toks = append(lx.toks, token{kind: tBlockEnd, pos: p})
					return skipSpace(s, p+3), nil
				}
				if strings.HasPrefix(s[p:], "%}") {
					lx.toks = append(lx.toks, token{kind: tBlockEnd, pos: p})
					p += 2
					if p < len(s) && s[p] == '\n' {
						p++
					}
					return p, nil
				}
			}
		}
		r, n := utf8.DecodeRuneInString(s[p:])
		switch {
		case pyIsSpace(r):
			p += n
		case r >= '0' && r <= '9':
			q, kind := lexNumber(s, p)
			lx.toks = append(lx.toks, token{kind: kind, val: s[p:q], pos: p})
			p = q
		case r == '_' || unicode.IsLetter(r):
			q := p + n
			for q < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[q:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) && !unicode.Is(unicode.Mn, r2) && !unicode.Is(unicode.Mc, r2) {
					break
				}
				q += n2
			}
			lx.toks = append(lx.toks, token{kind: tName, val: s[p:q], pos: p})
			p = q
		case r == '\'' || r == '"':
			q, val, err := lx.lexString(p)
			if err != nil {
				return 0, err
			}
			lx.toks = append(lx.toks, token{kind: tString, val: val, pos: p})
			p = q
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(s[p:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return 0, lx.errf(p, "unexpected char %s at %d", Repr(string(r)), p)
			}
			switch op {
			case "(":
				stack = append(stack, ')')
			case "[":
				stack = append(stack, ']')
			case "{":
				stack = append(stack, '}')
			case ")", "]", "}":
				if len(stack) == 0 {
					return 0, lx.errf(p, "unexpected '%s'", op)
				}
				want := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if want != op[0] {
					return 0, lx.errf(p, "unexpected '%s', expected '%c'", op, want)
				}
			}
			lx.toks = append(lx.toks, token{kind: tOp, val: op, pos: p})
			p += len(op)
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitsUnderscore matches (\d+_)*\d+ at p and returns its end, or p.
func digitsUnderscore(s string, p int) int {
	q := p
	for {
		d := q
		for d < len(s) && isDigit(s[d]) {
			d++
		}
		if d == q {
			return p
		}
		p = d
		if d < len(s) && s[d] == '_' && d+1 < len(s) && isDigit(s[d+1]) {
			q = d + 1
			continue
		}
		return p
	}
}

// lexNumber matches jinja2's float_re, then integer_re, at p.
func lexNumber(s string, p int) (int, tokKind) {
	// float: digits ((.digits)? e[+-]?digits | .digits)
	if p == 0 || s[p-1] != '.' {
		q := digitsUnderscore(s, p)
		f := q
		if f < len(s) && s[f] == '.' {
			if g := digitsUnderscore(s, f+1); g > f+1 {
				f = g
			}
		}
		if f < len(s) && (s[f] == 'e' || s[f] == 'E') {
			g := f + 1
			if g < len(s) && (s[g] == '+' || s[g] == '-') {
				g++
			}
			if h := digitsUnderscore(s, g); h > g {
				return h, tFloat
			}
		}
		if f > q {
			return f, tFloat
		}
	}
	if s[p] == '0' && p+1 < len(s) {
		base := s[p+1] | 0x20
		ok := func(c byte) bool {
			switch base {
			case 'b':
				return c == '0' || c == '1'
			case 'o':
				return c >= '0' && c <= '7'
			case 'x':
				c |= 0x20
				return isDigit(c) || (c >= 'a' && c <= 'f')
			}
			return false
		}
		if base == 'b' || base == 'o' || base == 'x' {
			q := p + 2
			end := p
			for q < len(s) {
				if s[q] == '_' && q+1 < len(s) && ok(s[q+1]) {
					q++
				}
				if !ok(s[q]) {
					break
				}
				q++
				end = q
			}
			if end > p {
				return end, tInt
			}
		}
	}
	if s[p] == '0' {
		q := p + 1
		for q < len(s) {
			if s[q] == '0' {
				q++
			} else if s[q] == '_' && q+1 < len(s) && s[q+1] == '0' {
				q += 2
			} else {
				break
			}
		}
		return q, tInt
	}
	q := p + 1
	for q < len(s) {
		if isDigit(s[q]) {
			q++
		} else if s[q] == '_' && q+1 < len(s) && isDigit(s[q+1]) {
			q += 2
		} else {
			break
		}
	}
	return q, tInt
}

// lexString reads a quoted string at p and unescapes it as Python's
// unicode-escape codec does.
func (lx *lexer) lexString(p int) (int, string, error) {
	s := lx.src
	q := s[p]
	i := p + 1
	for i < len(s) && s[i] != q {
		if s[i] == '\\' {
			i++
		}
		i++
	}
	if i >= len(s) {
		return 0, "", lx.errf(p, "unexpected char %s at %d", Repr(string(q)), p)
	}
	val, err := unescape(s[p+1 : i])
	if err != nil {
		return 0, "", lx.errf(p, "%s", err.Error())
	}
	return i + 1, val, nil
}

func unescape(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		c = s[i]
		switch c {
		case '\n':
		case '\\':
			b.WriteByte('\\')
		case '\'':
			b.WriteByte('\'')
		case '"':
			b.WriteByte('"')
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			h := s[i+1 : min(i+1+n, len(s))]
			v, err := strconv.ParseUint(h, 16, 32)
			if len(h) != n || err != nil || strings.ContainsAny(h, "+-_") {
				return "", errorf("(unicode error) 'unicodeescape' codec can't decode bytes: truncated \\%cXX escape", c)
			}
			if v > unicode.MaxRune {
				return "", errorf("(unicode error) 'unicodeescape' codec can't decode bytes: illegal Unicode character")
			}
			b.WriteRune(rune(v))
			i += n
		case 'N':
			return "", errorf("unsupported escape \\N{...} in a string literal")
		default:
			if c >= '0' && c <= '7' {
				v := int(c - '0')
				k := 1
				for k < 3 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7' {
					i++
					v = v*8 + int(s[i]-'0')
					k++
				}
				b.WriteRune(rune(v))
			} else {
				b.WriteByte('\\')
				b.WriteByte(c)
			}
		}
	}
	return b.String(), nil
}
