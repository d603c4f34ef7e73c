package pattern

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nodeKind is the kind of a syntax-tree node.
type nodeKind uint8

const (
	nEmpty  nodeKind = iota
	nClass           // one code point in cls
	nConcat          // subs in order
	nAlt             // subs, leftmost-first
	nRepeat          // subs[0] repeated min..max times (max < 0: unbounded), greedy
	nLook            // zero-width lookahead of subs[0]; neg for (?!…)
)

// node is a syntax-tree node.
type node struct {
	kind     nodeKind
	cls      *Class
	subs     []*node
	min, max int
	neg      bool
}

// Limits on what Compile accepts.
const (
	maxRepeat = 100000 // largest n or m in {n,m}
	maxInsts  = 200000 // largest compiled program
	maxDepth  = 200    // deepest group nesting
)

// Error is a refused or malformed pattern: the construct and its byte offset.
type Error struct {
	Pattern string
	Offset  int
	Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("pattern: %s at offset %d in %q", e.Problem, e.Offset, e.Pattern)
}

type parser struct {
	src   string
	pos   int
	fold  bool
	depth int
}

func (p *parser) errf(off int, format string, args ...any) error {
	return &Error{Pattern: p.src, Offset: off, Problem: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *parser) next() rune {
	r, w := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += w
	return r
}

func parse(src string) (*node, error) {
	if !utf8.ValidString(src) {
		return nil, &Error{Pattern: src, Offset: firstInvalid(src), Problem: "invalid UTF-8"}
	}
	p := &parser{src: src}
	n, err := p.alt()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errf(p.pos, "unmatched ')'")
	}
	return n, nil
}

func firstInvalid(s string) int {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return i
		}
		i += w
	}
	return len(s)
}

// alt parses alternatives up to ')' or the end.
func (p *parser) alt() (*node, error) {
	var alts []*node
	for {
		c, err := p.concat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
		if p.eof() || p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: nAlt, subs: alts}, nil
}

// concat parses atoms with their quantifiers up to '|', ')' or the end.
func (p *parser) concat() (*node, error) {
	var seq []*node
	for !p.eof() {
		c := p.peek()
		if c == '|' || c == ')' {
			break
		}
		a, err := p.atom()
		if err != nil {
			return nil, err
		}
		a, err = p.quantifier(a)
		if err != nil {
			return nil, err
		}
		if a.kind != nEmpty {
			seq = append(seq, a)
		}
	}
	switch len(seq) {
	case 0:
		return &node{kind: nEmpty}, nil
	case 1:
		return seq[0], nil
	}
	return &node{kind: nConcat, subs: seq}, nil
}

// quantifier parses an optional greedy quantifier after atom a.
func (p *parser) quantifier(a *node) (*node, error) {
	if p.eof() {
		return a, nil
	}
	start := p.pos
	min, max := 0, 0
	switch p.peek() {
	case '?':
		p.pos++
		min, max = 0, 1
	case '*':
		p.pos++
		min, max = 0, -1
	case '+':
		p.pos++
		min, max = 1, -1
	case '{':
		lo, hi, end, ok := parseBraces(p.src, p.pos)
		if !ok {
			return a, nil // a literal '{', as in Oniguruma
		}
		if lo > maxRepeat || hi > maxRepeat {
			return nil, p.errf(start, "repeat count over %d", maxRepeat)
		}
		if hi >= 0 && lo > hi {
			return nil, p.errf(start, "repeat {%d,%d} with min over max", lo, hi)
		}
		p.pos = end
		min, max = lo, hi
	default:
		return a, nil
	}
	if !p.eof() {
		switch p.peek() {
		case '?':
			return nil, p.errf(p.pos, "lazy quantifier unsupported")
		case '+':
			return nil, p.errf(p.pos, "possessive quantifier unsupported")
		case '*':
			return nil, p.errf(p.pos, "nested quantifier unsupported")
		case '{':
			if _, _, _, ok := parseBraces(p.src, p.pos); ok {
				return nil, p.errf(p.pos, "nested quantifier unsupported")
			}
		}
	}
	if a.kind == nLook {
		return nil, p.errf(start, "quantifier on a lookahead unsupported")
	}
	if a.kind == nEmpty {
		return nil, p.errf(start, "quantifier without a target")
	}
	if max < 0 && a.kind != nClass && nullable(a) {
		return nil, p.errf(start, "unbounded quantifier on a group that can match empty unsupported")
	}
	return &node{kind: nRepeat, subs: []*node{a}, min: min, max: max}, nil
}

// parseBraces reads {n}, {n,}, {,m} or {n,m} at s[i] == '{'; hi is -1 when unbounded.
func parseBraces(s string, i int) (lo, hi, end int, ok bool) {
	j := i + 1
	readNum := func() (int, bool) {
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == k {
			return 0, false
		}
		if j-k > 7 {
			return maxRepeat + 1, true
		}
		n, _ := strconv.Atoi(s[k:j])
		return n, true
	}
	lo, hasLo := readNum()
	if j < len(s) && s[j] == '}' {
		if !hasLo {
			return 0, 0, 0, false
		}
		return lo, lo, j + 1, true
	}
	if j >= len(s) || s[j] != ',' {
		return 0, 0, 0, false
	}
	j++
	hi, hasHi := readNum()
	if j >= len(s) || s[j] != '}' || (!hasLo && !hasHi) {
		return 0, 0, 0, false
	}
	if !hasHi {
		hi = -1
	}
	return lo, hi, j + 1, true
}

func nullable(n *node) bool {
	switch n.kind {
	case nClass:
		return false
	case nConcat:
		for _, s := range n.subs {
			if !nullable(s) {
				return false
			}
		}
		return true
	case nAlt:
		for _, s := range n.subs {
			if nullable(s) {
				return true
			}
		}
		return false
	case nRepeat:
		return n.min == 0 || nullable(n.subs[0])
	}
	return true
}

// atom parses one atom.
func (p *parser) atom() (*node, error) {
	start := p.pos
	c := p.next()
	switch c {
	case '(':
		return p.group(start)
	case '[':
		cls, err := p.class(start)
		if err != nil {
			return nil, err
		}
		return &node{kind: nClass, cls: cls}, nil
	case '.':
		cls := &Class{negate: true}
		cls.addRange('\n', '\n')
		return &node{kind: nClass, cls: cls}, nil
	case '^', '$':
		return nil, p.errf(start, "anchor %q unsupported", c)
	case '*', '+', '?':
		return nil, p.errf(start, "quantifier %q without a target", c)
	case '\\':
		r, cls, err := p.escape(start, false)
		if err != nil {
			return nil, err
		}
		if cls == nil {
			cls = p.literal(r)
		}
		return &node{kind: nClass, cls: cls}, nil
	}
	return &node{kind: nClass, cls: p.literal(c)}, nil
}

func (p *parser) literal(r rune) *Class {
	cls := &Class{}
	if p.fold {
		cls.addFolded(r)
	} else {
		cls.addRange(r, r)
	}
	return cls
}

// group parses after '(' at offset start.
func (p *parser) group(start int) (*node, error) {
	p.depth++
	if p.depth > maxDepth {
		return nil, p.errf(start, "groups nested deeper than %d", maxDepth)
	}
	defer func() { p.depth-- }()
	saved := p.fold
	defer func() { p.fold = saved }()
	look, neg := false, false
	rest := p.src[p.pos:]
	switch {
	case !strings.HasPrefix(rest, "?"):
		// a capturing group; captures are not used, so it is a plain group
	case strings.HasPrefix(rest, "?:"):
		p.pos += 2
	case strings.HasPrefix(rest, "?="):
		p.pos += 2
		look = true
	case strings.HasPrefix(rest, "?!"):
		p.pos += 2
		look, neg = true, true
	case strings.HasPrefix(rest, "?<=") || strings.HasPrefix(rest, "?<!"):
		return nil, p.errf(start, "lookbehind unsupported")
	case strings.HasPrefix(rest, "?>"):
		return nil, p.errf(start, "atomic group unsupported")
	case strings.HasPrefix(rest, "?<") || strings.HasPrefix(rest, "?P<") || strings.HasPrefix(rest, "?'"):
		return nil, p.errf(start, "named group unsupported")
	case strings.HasPrefix(rest, "?#"):
		return nil, p.errf(start, "comment group unsupported")
	default:
		// option groups: (?i:…), (?-i:…); anything else is refused
		j := 1
		on := true
		fold := p.fold
		for j < len(rest) && rest[j] != ':' && rest[j] != ')' {
			switch rest[j] {
			case '-':
				on = false
			case 'i':
				fold = on
			default:
				return nil, p.errf(start, "group option %q unsupported", rest[j])
			}
			j++
		}
		if j >= len(rest) {
			return nil, p.errf(start, "missing ')'")
		}
		if rest[j] == ')' {
			return nil, p.errf(start, "inline option switch %q unsupported", rest[:j+1])
		}
		p.fold = fold
		p.pos += j + 1
	}
	body, err := p.alt()
	if err != nil {
		return nil, err
	}
	if p.eof() || p.peek() != ')' {
		return nil, p.errf(start, "missing ')'")
	}
	p.pos++
	if look {
		return &node{kind: nLook, subs: []*node{body}, neg: neg}, nil
	}
	return body, nil
}

// escape parses after '\' at offset start: a code point, or a shorthand class.
func (p *parser) escape(start int, inClass bool) (rune, *Class, error) {
	if p.eof() {
		return 0, nil, p.errf(start, "trailing backslash")
	}
	c := p.next()
	switch c {
	case 't':
		return '\t', nil, nil
	case 'n':
		return '\n', nil, nil
	case 'r':
		return '\r', nil, nil
	case 'f':
		return '\f', nil, nil
	case 'v':
		return '\v', nil, nil
	case 'a':
		return '\a', nil, nil
	case 'e':
		return 0x1b, nil, nil
	case 'x':
		if !p.eof() && p.peek() == '{' {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return 0, nil, p.errf(start, "unterminated \\x{")
			}
			v, err := strconv.ParseUint(p.src[p.pos+1:p.pos+end], 16, 32)
			if err != nil || v > unicode.MaxRune || (v >= 0xD800 && v < 0xE000) {
				return 0, nil, p.errf(start, "bad code point in \\x{...}")
			}
			p.pos += end + 1
			return rune(v), nil, nil
		}
		return p.hex(start, 2)
	case 'u':
		return p.hex(start, 4)
	case 's', 'S':
		return 0, shorthand([]*unicode.RangeTable{spaceTable}, c == 'S'), nil
	case 'd', 'D':
		return 0, shorthand([]*unicode.RangeTable{digitTable}, c == 'D'), nil
	case 'w', 'W':
		return 0, shorthand(wordTables, c == 'W'), nil
	case 'h', 'H':
		return 0, shorthand([]*unicode.RangeTable{hexTable}, c == 'H'), nil
	case 'p', 'P':
		neg := c == 'P'
		if p.eof() || p.peek() != '{' {
			return 0, nil, p.errf(start, "\\%c without {name}", c)
		}
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end < 0 {
			return 0, nil, p.errf(start, "unterminated \\%c{", c)
		}
		name := p.src[p.pos+1 : p.pos+end]
		if strings.HasPrefix(name, "^") {
			neg = !neg
			name = name[1:]
		}
		t := lookupProperty(name)
		if t == nil {
			return 0, nil, p.errf(start, "unknown property \\%c{%s}", c, name)
		}
		p.pos += end + 1
		return 0, shorthand([]*unicode.RangeTable{t}, neg), nil
	case 'b', 'B', 'A', 'z', 'Z', 'G':
		if c == 'b' && inClass {
			return '\b', nil, nil
		}
		return 0, nil, p.errf(start, "anchor \\%c unsupported", c)
	case 'k', 'g':
		return 0, nil, p.errf(start, "back-reference or subexpression call \\%c unsupported", c)
	case 'K', 'R', 'X', 'N', 'O', 'y', 'Y':
		return 0, nil, p.errf(start, "escape \\%c unsupported", c)
	}
	if c >= '0' && c <= '9' {
		return 0, nil, p.errf(start, "back-reference or octal escape \\%c unsupported", c)
	}
	if c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		return 0, nil, p.errf(start, "escape \\%c unsupported", c)
	}
	return c, nil, nil
}

func (p *parser) hex(start, n int) (rune, *Class, error) {
	if p.pos+n > len(p.src) {
		return 0, nil, p.errf(start, "short hex escape")
	}
	v, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
	if err != nil || (v >= 0xD800 && v < 0xE000) {
		return 0, nil, p.errf(start, "bad hex escape")
	}
	p.pos += n
	return rune(v), nil, nil
}

func shorthand(tables []*unicode.RangeTable, neg bool) *Class {
	c := &Class{}
	for _, t := range tables {
		c.tables = append(c.tables, tableItem{table: t})
	}
	c.negate = neg
	return c
}

// class parses a bracket class after '[' at offset start.
func (p *parser) class(start int) (*Class, error) {
	cls := &Class{}
	if !p.eof() && p.peek() == '^' {
		p.pos++
		cls.negate = true
	}
	first := true
	for {
		if p.eof() {
			return nil, p.errf(start, "missing ']'")
		}
		itemStart := p.pos
		c := p.next()
		if c == ']' && !first {
			break
		}
		first = false
		var lo rune
		switch c {
		case '[':
			return nil, p.errf(itemStart, "nested class unsupported")
		case '&':
			if !p.eof() && p.peek() == '&' {
				return nil, p.errf(itemStart, "class intersection unsupported")
			}
			lo = c
		case '\\':
			r, sub, err := p.escape(itemStart, true)
			if err != nil {
				return nil, err
			}
			if sub != nil {
				if !p.eof() && p.peek() == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] != ']' {
					return nil, p.errf(p.pos, "range from a shorthand class")
				}
				if err := cls.addClass(sub); err != nil {
					return nil, err
				}
				continue
			}
			lo = r
		default:
			lo = c
		}
		hi := lo
		if !p.eof() && p.peek() == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] != ']' {
			dash := p.pos
			p.pos++
			hc := p.next()
			switch hc {
			case '[':
				return nil, p.errf(dash, "nested class unsupported")
			case '\\':
				r, sub, err := p.escape(dash+1, true)
				if err != nil {
					return nil, err
				}
				if sub != nil {
					return nil, p.errf(dash, "range to a shorthand class")
				}
				hi = r
			default:
				hi = hc
			}
			if hi < lo {
				return nil, p.errf(dash, "empty range %q-%q", lo, hi)
			}
		}
		cls.addRange(lo, hi)
	}
	if p.fold {
		cls.foldRanges()
	}
	return cls, nil
}

// addClass adds the members of a shorthand class (tables, maybe negated) to c.
func (c *Class) addClass(sub *Class) error {
	if len(sub.tables) == 1 {
		c.tables = append(c.tables, tableItem{table: sub.tables[0].table, neg: sub.negate})
		return nil
	}
	if !sub.negate {
		c.tables = append(c.tables, sub.tables...)
		return nil
	}
	// \W inside a class: a complement of a union, which one table item cannot hold.
	ts := make([]*unicode.RangeTable, len(sub.tables))
	for i, t := range sub.tables {
		ts[i] = t.table
	}
	merged := mergeTables(ts)
	c.tables = append(c.tables, tableItem{table: merged, neg: true})
	return nil
}

// mergeTables builds one range table holding the union of ts.
func mergeTables(ts []*unicode.RangeTable) *unicode.RangeTable {
	in := make([]bool, unicode.MaxRune+1)
	for _, t := range ts {
		for _, r := range t.R16 {
			for x := rune(r.Lo); x <= rune(r.Hi); x += rune(r.Stride) {
				in[x] = true
			}
		}
		for _, r := range t.R32 {
			for x := rune(r.Lo); x <= rune(r.Hi); x += rune(r.Stride) {
				in[x] = true
			}
		}
	}
	out := &unicode.RangeTable{}
	for x := rune(0); x <= unicode.MaxRune; {
		if !in[x] {
			x++
			continue
		}
		y := x
		for y+1 <= unicode.MaxRune && in[y+1] {
			y++
		}
		if y <= 0xFFFF {
			out.R16 = append(out.R16, unicode.Range16{Lo: uint16(x), Hi: uint16(y), Stride: 1})
		} else if x > 0xFFFF {
			out.R32 = append(out.R32, unicode.Range32{Lo: uint32(x), Hi: uint32(y), Stride: 1})
		} else {
			out.R16 = append(out.R16, unicode.Range16{Lo: uint16(x), Hi: 0xFFFF, Stride: 1})
			out.R32 = append(out.R32, unicode.Range32{Lo: 0x10000, Hi: uint32(y), Stride: 1})
		}
		x = y + 1
	}
	return out
}
