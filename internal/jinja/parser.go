package jinja

import (
	"strconv"
	"strings"
)

// parser is a recursive-descent parser following jinja2's grammar
// (parser.py): operator precedence, filters binding tighter than binary
// operators, tests with one bare argument, conditional expressions, tuples
// without parentheses in {{ }} and {% for %} targets.
type parser struct {
	name      string
	toks      []token
	lines     []int
	i         int
	loopDepth int
	depth     int // nesting of expressions and blocks, bounded by maxNesting
}

// maxNesting bounds how deeply expressions and blocks may nest, so that a
// hostile template cannot exhaust the stack.
const maxNesting = 200

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return &Error{Name: p.name, Line: p.lineOf(p.cur()), Kind: Limit, Msg: sprintf("nested deeper than %d levels", maxNesting)}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// unsupportedTags are jinja2 tags this engine refuses by name.
var unsupportedTags = map[string]bool{
	"extends": true, "include": true, "import": true, "from": true, "block": true,
	"call": true, "filter": true, "with": true, "autoescape": true, "do": true,
	"trans": true, "pluralize": true, "debug": true,
}

func (p *parser) cur() token  { return p.toks[p.i] }
func (p *parser) peek() token { return p.toks[min(p.i+1, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) lineOf(t token) int {
	lo, hi := 0, len(p.lines)
	for lo < hi {
		m := (lo + hi) / 2
		if p.lines[m] > t.pos {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (p *parser) at() pos { return pos{p.lineOf(p.cur())} }

func (p *parser) fail(t token, format string, args ...any) error {
	return &Error{Name: p.name, Line: p.lineOf(t), Kind: Syntax, Msg: sprintf(format, args...)}
}

func (p *parser) isOp(op string) bool { t := p.cur(); return t.kind == tOp && t.val == op }
func (p *parser) isName(n string) bool {
	t := p.cur()
	return t.kind == tName && t.val == n
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tBlockEnd:
		return "end of statement block"
	case tVarEnd:
		return "end of print statement"
	case tBlockBegin:
		return "begin of statement block"
	case tVarBegin:
		return "begin of print statement"
	case tString:
		return "string"
	case tData:
		return "template data"
	}
	return t.val
}

func (p *parser) expectOp(op string) error {
	if !p.isOp(op) {
		return p.fail(p.cur(), "expected token '%s', got '%s'", op, describe(p.cur()))
	}
	p.next()
	return nil
}

func (p *parser) expectName() (string, error) {
	t := p.cur()
	if t.kind != tName {
		return "", p.fail(t, "expected token 'name', got '%s'", describe(t))
	}
	p.next()
	return t.val, nil
}

func (p *parser) expectKind(k tokKind, what string) error {
	if p.cur().kind != k {
		return p.fail(p.cur(), "expected token '%s', got '%s'", what, describe(p.cur()))
	}
	p.next()
	return nil
}

// parse parses the whole template.
func (p *parser) parse() ([]node, error) {
	body, end, err := p.statements(nil)
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, p.fail(p.cur(), "Encountered unknown tag '%s'.", end)
	}
	return body, nil
}

// statements parses until a block whose tag name is one of ends (the
// block_begin and the name are consumed; the name is returned) or the end
// of the template ("" returned; an error if ends is not empty).
func (p *parser) statements(ends []string) ([]node, string, error) {
	var body []node
	for {
		t := p.cur()
		switch t.kind {
		case tEOF:
			if len(ends) > 0 {
				return nil, "", p.fail(t, "Unexpected end of template. Jinja was looking for the following tags: %s.", quoteList(ends))
			}
			return body, "", nil
		case tData:
			p.next()
			body = append(body, &dataStmt{pos{p.lineOf(t)}, t.val})
		case tVarBegin:
			p.next()
			x, err := p.tuple(false, true, nil, false)
			if err != nil {
				return nil, "", err
			}
			if err := p.expectKind(tVarEnd, "end of print statement"); err != nil {
				return nil, "", err
			}
			body = append(body, &outputStmt{pos{p.lineOf(t)}, x})
		case tBlockBegin:
			p.next()
			nt := p.cur()
			if nt.kind != tName {
				return nil, "", p.fail(nt, "tag name expected")
			}
			for _, e := range ends {
				if nt.val == e {
					p.next()
					return body, e, nil
				}
			}
			st, err := p.statement()
			if err != nil {
				return nil, "", err
			}
			body = append(body, st)
		default:
			return nil, "", p.fail(t, "unexpected '%s'", describe(t))
		}
	}
}

func quoteList(ends []string) string {
	q := make([]string, len(ends))
	for i, e := range ends {
		q[i] = "'" + e + "'"
	}
	return strings.Join(q, " or ")
}

func (p *parser) blockEnd() error { return p.expectKind(tBlockEnd, "end of statement block") }

// statement parses one block tag whose name is the current token.
func (p *parser) statement() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.next()
	at := pos{p.lineOf(t)}
	switch t.val {
	case "if":
		return p.parseIf(at)
	case "for":
		return p.parseFor(at)
	case "set":
		return p.parseSet(at)
	case "macro":
		return p.parseMacro(at)
	case "break", "continue":
		if p.loopDepth == 0 {
			return nil, p.fail(t, "unsupported %s outside a for loop", t.val)
		}
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		if t.val == "break" {
			return &breakStmt{at}, nil
		}
		return &continueStmt{at}, nil
	case "generation":
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		body, _, err := p.statements([]string{"endgeneration"})
		if err != nil {
			return nil, err
		}
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		return &generationStmt{at, body}, nil
	}
	if unsupportedTags[t.val] {
		return nil, p.fail(t, "unsupported tag %q", t.val)
	}
	return nil, p.fail(t, "unsupported tag %q", t.val)
}

func (p *parser) parseIf(at pos) (node, error) {
	test, err := p.tuple(false, false, nil, false)
	if err != nil {
		return nil, err
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	body, end, err := p.statements([]string{"elif", "else", "endif"})
	if err != nil {
		return nil, err
	}
	n := &ifStmt{pos: at, Test: test, Body: body}
	switch end {
	case "elif":
		elif, err := p.parseIf(p.at())
		if err != nil {
			return nil, err
		}
		n.Else = []node{elif}
		return n, nil
	case "else":
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		n.Else, _, err = p.statements([]string{"endif"})
		if err != nil {
			return nil, err
		}
	}
	return n, p.blockEnd()
}

func (p *parser) assignTarget(extraEnds []string, nsOK bool) (node, error) {
	t := p.cur()
	if nsOK && t.kind == tName && p.peek().kind == tOp && p.peek().val == "." {
		p.next()
		p.next()
		attr, err := p.expectName()
		if err != nil {
			return nil, err
		}
		return &nsRef{pos{p.lineOf(t)}, t.val, attr}, nil
	}
	target, err := p.tuple(true, false, extraEnds, false)
	if err != nil {
		return nil, err
	}
	if !assignable(target) {
		return nil, p.fail(t, "can't assign to %s", nodeKind(target))
	}
	return target, nil
}

func assignable(n node) bool {
	switch x := n.(type) {
	case *nameExpr:
		return x.Name != "true" && x.Name != "false" && x.Name != "none" && x.Name != "True" && x.Name != "False" && x.Name != "None"
	case *tupleExpr:
		for _, it := range x.Items {
			if !assignable(it) {
				return false
			}
		}
		return true
	}
	return false
}

func nodeKind(n node) string {
	switch n.(type) {
	case *constExpr:
		return "'Const'"
	case *getattrExpr:
		return "'Getattr'"
	case *getitemExpr:
		return "'Getitem'"
	}
	return "this expression"
}

func (p *parser) parseFor(at pos) (node, error) {
	target, err := p.assignTarget([]string{"in"}, false)
	if err != nil {
		return nil, err
	}
	if !p.isName("in") {
		return nil, p.fail(p.cur(), "expected token 'in', got '%s'", describe(p.cur()))
	}
	p.next()
	iter, err := p.tuple(false, false, []string{"recursive"}, false)
	if err != nil {
		return nil, err
	}
	n := &forStmt{pos: at, Target: target, Iter: iter}
	if p.isName("if") {
		p.next()
		if n.Filter, err = p.expression(true); err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		return nil, p.fail(p.cur(), "unsupported recursive for loop")
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	p.loopDepth++
	body, end, err := p.statements([]string{"endfor", "else"})
	p.loopDepth--
	if err != nil {
		return nil, err
	}
	n.Body = body
	if end == "else" {
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		if n.Else, _, err = p.statements([]string{"endfor"}); err != nil {
			return nil, err
		}
	}
	return n, p.blockEnd()
}

func (p *parser) parseSet(at pos) (node, error) {
	target, err := p.assignTarget(nil, true)
	if err != nil {
		return nil, err
	}
	if p.isOp("=") {
		p.next()
		v, err := p.tuple(false, true, nil, false)
		if err != nil {
			return nil, err
		}
		return &setStmt{at, target, v}, p.blockEnd()
	}
	if _, ok := target.(*nsRef); ok {
		return nil, p.fail(p.cur(), "expected token '=', got '%s'", describe(p.cur()))
	}
	n := &setBlockStmt{pos: at, Target: target}
	if p.isOp("|") {
		f, err := p.filters(nil)
		if err != nil {
			return nil, err
		}
		n.Filter = f.(*filterExpr)
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	depth := p.loopDepth
	p.loopDepth = 0
	n.Body, _, err = p.statements([]string{"endset"})
	p.loopDepth = depth
	if err != nil {
		return nil, err
	}
	return n, p.blockEnd()
}

func (p *parser) parseMacro(at pos) (node, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	n := &macroStmt{pos: at, Name: name}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		if len(n.Params) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		t := p.cur()
		arg, err := p.expectName()
		if err != nil {
			return nil, err
		}
		if p.isOp("=") {
			p.next()
			d, err := p.expression(true)
			if err != nil {
				return nil, err
			}
			n.Defaults = append(n.Defaults, d)
		} else if len(n.Defaults) > 0 {
			return nil, p.fail(t, "non-default argument follows default argument")
		}
		n.Params = append(n.Params, arg)
	}
	p.next()
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	depth := p.loopDepth
	p.loopDepth = 0
	n.Body, _, err = p.statements([]string{"endmacro"})
	p.loopDepth = depth
	if err != nil {
		return nil, err
	}
	if p.cur().kind == tName && p.cur().val == name {
		p.next()
	}
	return n, p.blockEnd()
}

// tuple is jinja2's parse_tuple.
func (p *parser) tuple(simplified, condexpr bool, extraEnds []string, explicitParens bool) (node, error) {
	at := p.at()
	var items []node
	isTuple := false
	for {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if p.tupleEnd(extraEnds) {
			break
		}
		var x node
		var err error
		if simplified {
			x, err = p.primary()
		} else {
			x, err = p.expression(condexpr)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, x)
		if p.isOp(",") {
			isTuple = true
		} else {
			break
		}
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0], nil
		}
		if !explicitParens {
			return nil, p.fail(p.cur(), "Expected an expression, got '%s'", describe(p.cur()))
		}
	}
	return &tupleExpr{at, items}, nil
}

func (p *parser) tupleEnd(extraEnds []string) bool {
	t := p.cur()
	if t.kind == tVarEnd || t.kind == tBlockEnd || (t.kind == tOp && t.val == ")") || t.kind == tEOF {
		return true
	}
	for _, e := range extraEnds {
		if t.kind == tName && t.val == e {
			return true
		}
	}
	return false
}

func (p *parser) expression(condexpr bool) (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if condexpr {
		return p.condexpr()
	}
	return p.or()
}

func (p *parser) condexpr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	at := p.at()
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		p.next()
		test, err := p.or()
		if err != nil {
			return nil, err
		}
		var els node
		if p.isName("else") {
			p.next()
			if els, err = p.condexpr(); err != nil {
				return nil, err
			}
		}
		x = &condExpr{at, test, x, els}
	}
	return x, nil
}

func (p *parser) or() (node, error) {
	at := p.at()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{at, "or", l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	at := p.at()
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{at, "and", l, r}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.isName("not") {
		at := p.at()
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{at, "not", x}, nil
	}
	return p.compare()
}

func (p *parser) compare() (node, error) {
	at := p.at()
	x, err := p.math1()
	if err != nil {
		return nil, err
	}
	c := &compareExpr{pos: at, First: x}
	for {
		t := p.cur()
		var op string
		switch {
		case t.kind == tOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == "<=" || t.val == ">" || t.val == ">="):
			op = t.val
			p.next()
		case p.isName("in"):
			op = "in"
			p.next()
		case p.isName("not") && p.peek().kind == tName && p.peek().val == "in":
			op = "notin"
			p.next()
			p.next()
		}
		if op == "" {
			break
		}
		r, err := p.math1()
		if err != nil {
			return nil, err
		}
		c.Ops = append(c.Ops, op)
		c.Rest = append(c.Rest, r)
	}
	if len(c.Ops) == 0 {
		return x, nil
	}
	return c, nil
}

func (p *parser) math1() (node, error) {
	at := p.at()
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().val
		r, err := p.concat()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{at, op, l, r}
	}
	return l, nil
}

func (p *parser) concat() (node, error) {
	at := p.at()
	x, err := p.math2()
	if err != nil {
		return nil, err
	}
	items := []node{x}
	for p.isOp("~") {
		p.next()
		y, err := p.math2()
		if err != nil {
			return nil, err
		}
		items = append(items, y)
	}
	if len(items) == 1 {
		return x, nil
	}
	return &concatExpr{at, items}, nil
}

func (p *parser) math2() (node, error) {
	at := p.at()
	l, err := p.pow()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		op := p.next().val
		r, err := p.pow()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{at, op, l, r}
	}
	return l, nil
}

func (p *parser) pow() (node, error) {
	at := p.at()
	l, err := p.unary(true)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		p.next()
		r, err := p.unary(true)
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{at, "**", l, r}
	}
	return l, nil
}

func (p *parser) unary(withFilter bool) (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	at := p.at()
	var x node
	var err error
	switch {
	case p.isOp("-") || p.isOp("+"):
		op := p.next().val
		y, err := p.unary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{at, op, y}
	default:
		if x, err = p.primary(); err != nil {
			return nil, err
		}
	}
	if x, err = p.postfix(x); err != nil {
		return nil, err
	}
	if withFilter {
		return p.filterExprs(x)
	}
	return x, nil
}

func (p *parser) primary() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.cur()
	at := pos{p.lineOf(t)}
	switch t.kind {
	case tName:
		p.next()
		switch t.val {
		case "true", "True":
			return &constExpr{at, true}, nil
		case "false", "False":
			return &constExpr{at, false}, nil
		case "none", "None":
			return &constExpr{at, nil}, nil
		}
		return &nameExpr{at, t.val}, nil
	case tString:
		p.next()
		s := t.val
		for p.cur().kind == tString {
			s += p.next().val
		}
		return &constExpr{at, s}, nil
	case tInt:
		p.next()
		v, err := parseIntLiteral(t.val)
		if err != nil {
			return nil, p.fail(t, "unsupported integer literal %s: %v", t.val, err)
		}
		return &constExpr{at, v}, nil
	case tFloat:
		p.next()
		v, err := strconv.ParseFloat(strings.ReplaceAll(t.val, "_", ""), 64)
		if err != nil {
			// overflow to inf is what Python does too
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return nil, p.fail(t, "bad float literal %s", t.val)
			}
		}
		return &constExpr{at, v}, nil
	case tOp:
		switch t.val {
		case "(":
			p.next()
			x, err := p.tuple(false, true, nil, true)
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")")
		case "[":
			p.next()
			var items []node
			for !p.isOp("]") {
				if len(items) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("]") {
						break
					}
				}
				x, err := p.expression(true)
				if err != nil {
					return nil, err
				}
				items = append(items, x)
			}
			p.next()
			return &listExpr{at, items}, nil
		case "{":
			p.next()
			d := &dictExpr{pos: at}
			for !p.isOp("}") {
				if len(d.Keys) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("}") {
						break
					}
				}
				k, err := p.expression(true)
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.expression(true)
				if err != nil {
					return nil, err
				}
				d.Keys = append(d.Keys, k)
				d.Vals = append(d.Vals, v)
			}
			p.next()
			return d, nil
		}
	}
	return nil, p.fail(t, "unexpected '%s'", describe(t))
}

func parseIntLiteral(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	base := 10
	if len(s) > 1 && s[0] == '0' {
		switch s[1] | 0x20 {
		case 'b':
			base, s = 2, s[2:]
		case 'o':
			base, s = 8, s[2:]
		case 'x':
			base, s = 16, s[2:]
		}
	}
	return strconv.ParseInt(s, base, 64)
}

func (p *parser) postfix(x node) (node, error) {
	for {
		at := p.at()
		switch {
		case p.isOp("."):
			p.next()
			t := p.cur()
			switch t.kind {
			case tName:
				p.next()
				x = &getattrExpr{at, x, t.val}
			case tInt:
				p.next()
				v, err := parseIntLiteral(t.val)
				if err != nil {
					return nil, p.fail(t, "bad integer %s", t.val)
				}
				x = &getitemExpr{at, x, &constExpr{at, v}}
			default:
				return nil, p.fail(t, "expected name or number")
			}
		case p.isOp("["):
			p.next()
			var args []node
			for !p.isOp("]") {
				if len(args) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("]") {
						break
					}
				}
				a, err := p.subscribed(x)
				if err != nil {
					return nil, err
				}
				args = append(args, a)
			}
			p.next()
			switch len(args) {
			case 0:
				return nil, p.fail(p.cur(), "expected an expression in []")
			case 1:
				if s, ok := args[0].(*sliceExpr); ok {
					x = s
				} else {
					x = &getitemExpr{at, x, args[0]}
				}
			default:
				for _, a := range args {
					if _, ok := a.(*sliceExpr); ok {
						return nil, p.fail(p.cur(), "unsupported tuple of slices")
					}
				}
				x = &getitemExpr{at, x, &tupleExpr{at, args}}
			}
		case p.isOp("("):
			args, err := p.callArgs()
			if err != nil {
				return nil, err
			}
			x = &callExpr{at, x, args}
		default:
			return x, nil
		}
	}
}

// subscribed parses one subscript: an expression or a slice of x.
func (p *parser) subscribed(x node) (node, error) {
	at := p.at()
	var parts [3]node
	if !p.isOp(":") {
		e, err := p.expression(true)
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return e, nil
		}
		parts[0] = e
	}
	p.next()
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		e, err := p.expression(true)
		if err != nil {
			return nil, err
		}
		parts[1] = e
	}
	if p.isOp(":") {
		p.next()
		if !p.isOp("]") && !p.isOp(",") {
			e, err := p.expression(true)
			if err != nil {
				return nil, err
			}
			parts[2] = e
		}
	}
	return &sliceExpr{at, x, parts[0], parts[1], parts[2]}, nil
}

func (p *parser) callArgs() (callArgs, error) {
	var a callArgs
	if err := p.expectOp("("); err != nil {
		return a, err
	}
	for !p.isOp(")") {
		if len(a.Pos)+len(a.KwNames) > 0 {
			if err := p.expectOp(","); err != nil {
				return a, err
			}
			if p.isOp(")") {
				break
			}
		}
		if p.isOp("*") || p.isOp("**") {
			return a, p.fail(p.cur(), "unsupported %s argument unpacking", p.cur().val)
		}
		if p.cur().kind == tName && p.peek().kind == tOp && p.peek().val == "=" {
			k := p.next().val
			p.next()
			v, err := p.expression(true)
			if err != nil {
				return a, err
			}
			a.KwNames = append(a.KwNames, k)
			a.KwVals = append(a.KwVals, v)
			continue
		}
		t := p.cur()
		if len(a.KwNames) > 0 {
			return a, p.fail(t, "invalid syntax for function call expression")
		}
		v, err := p.expression(true)
		if err != nil {
			return a, err
		}
		a.Pos = append(a.Pos, v)
	}
	p.next()
	return a, nil
}

// filterExprs is parse_filter_expr: filters, tests and calls after a unary.
func (p *parser) filterExprs(x node) (node, error) {
	var err error
	for {
		switch {
		case p.isOp("|"):
			if x, err = p.filters(x); err != nil {
				return nil, err
			}
		case p.isName("is"):
			if x, err = p.test(x); err != nil {
				return nil, err
			}
		case p.isOp("("):
			args, err := p.callArgs()
			if err != nil {
				return nil, err
			}
			x = &callExpr{p.at(), x, args}
		default:
			return x, nil
		}
	}
}

func (p *parser) dottedName() (string, token, error) {
	t := p.cur()
	n, err := p.expectName()
	if err != nil {
		return "", t, err
	}
	for p.isOp(".") {
		p.next()
		m, err := p.expectName()
		if err != nil {
			return "", t, err
		}
		n += "." + m
	}
	return n, t, nil
}

// filters parses a chain "|f1(args)|f2" applied to x.
func (p *parser) filters(x node) (node, error) {
	for p.isOp("|") {
		at := p.at()
		p.next()
		name, t, err := p.dottedName()
		if err != nil {
			return nil, err
		}
		if _, ok := filterTable[name]; !ok {
			return nil, p.fail(t, "unsupported filter %q", name)
		}
		var args callArgs
		if p.isOp("(") {
			if args, err = p.callArgs(); err != nil {
				return nil, err
			}
		}
		x = &filterExpr{at, x, name, args}
	}
	return x, nil
}

func (p *parser) test(x node) (node, error) {
	at := p.at()
	p.next() // is
	negated := false
	if p.isName("not") {
		p.next()
		negated = true
	}
	name, t, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	if _, ok := testTable[name]; !ok {
		return nil, p.fail(t, "unsupported test %q", name)
	}
	var args callArgs
	c := p.cur()
	switch {
	case p.isOp("("):
		if args, err = p.callArgs(); err != nil {
			return nil, err
		}
	case (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat ||
		(c.kind == tOp && (c.val == "(" || c.val == "[" || c.val == "{"))) &&
		!(c.kind == tName && (c.val == "else" || c.val == "or" || c.val == "and")):
		if c.kind == tName && c.val == "is" {
			return nil, p.fail(c, "You cannot chain multiple tests with is")
		}
		a, err := p.primary()
		if err != nil {
			return nil, err
		}
		if a, err = p.postfix(a); err != nil {
			return nil, err
		}
		args.Pos = []node{a}
	}
	var n node = &testExpr{at, x, name, args}
	if negated {
		n = &unaryExpr{at, "not", n}
	}
	return n, nil
}
