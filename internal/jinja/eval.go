package jinja

import (
	"strings"
)

// frame is one scope: the template's top level, one iteration of a for
// loop, or one macro call. Assignments go to the current frame; lookups
// walk to the parents. (jinja2 scopes the same way: a {% set %} in a loop
// body lasts for that iteration, a macro sees its defining scope at call
// time, {% if %} opens no scope.)
type frame struct {
	vars   map[string]Value
	parent *frame
}

func (f *frame) lookup(name string) (Value, bool) {
	for ; f != nil; f = f.parent {
		if v, ok := f.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// Macro is a {% macro %} bound to the scope it was defined in.
type Macro struct {
	node *macroStmt
	env  *frame
}

type ctrl int

const (
	ctrlNone ctrl = iota
	ctrlBreak
	ctrlContinue
)

type evaluator struct {
	name       string
	opts       Options
	written    int
	depth      int
	iterations int
	work       int
}

func (e *evaluator) errAt(n node, err error) error { return place(err, e.name, n.line()) }

func (e *evaluator) write(b *strings.Builder, s string, n node) error {
	e.written += len(s)
	if e.written > e.opts.Limits.MaxOutput {
		return e.errAt(n, kindErrorf(Limit, "output larger than %d bytes", e.opts.Limits.MaxOutput))
	}
	b.WriteString(s)
	return nil
}

func (e *evaluator) execBody(body []node, f *frame, b *strings.Builder) (ctrl, error) {
	for _, n := range body {
		c, err := e.exec(n, f, b)
		if err != nil || c != ctrlNone {
			return c, err
		}
	}
	return ctrlNone, nil
}

func (e *evaluator) exec(n node, f *frame, b *strings.Builder) (ctrl, error) {
	switch s := n.(type) {
	case *dataStmt:
		return ctrlNone, e.write(b, s.Text, s)
	case *outputStmt:
		v, err := e.eval(s.X, f)
		if err != nil {
			return ctrlNone, err
		}
		return ctrlNone, e.write(b, Str(v), s)
	case *ifStmt:
		v, err := e.eval(s.Test, f)
		if err != nil {
			return ctrlNone, err
		}
		if Truth(v) {
			return e.execBody(s.Body, f, b)
		}
		return e.execBody(s.Else, f, b)
	case *forStmt:
		return ctrlNone, e.execFor(s, f, b)
	case *setStmt:
		v, err := e.eval(s.Value, f)
		if err != nil {
			return ctrlNone, err
		}
		return ctrlNone, e.assign(s.Target, v, f)
	case *setBlockStmt:
		var sb strings.Builder
		if _, err := e.execBody(s.Body, f, &sb); err != nil {
			return ctrlNone, err
		}
		var v Value = sb.String()
		if s.Filter != nil {
			var err error
			if v, err = e.applyFilters(s.Filter, v, f); err != nil {
				return ctrlNone, err
			}
		}
		return ctrlNone, e.assign(s.Target, v, f)
	case *macroStmt:
		f.vars[s.Name] = &Macro{node: s, env: f}
		return ctrlNone, nil
	case *breakStmt:
		return ctrlBreak, nil
	case *continueStmt:
		return ctrlContinue, nil
	case *generationStmt:
		return e.execBody(s.Body, f, b)
	}
	return ctrlNone, e.errAt(n, errorf("unsupported statement"))
}

// applyFilters applies the chain whose innermost X is nil to v.
func (e *evaluator) applyFilters(fe *filterExpr, v Value, f *frame) (Value, error) {
	if fe.X != nil {
		inner, ok := fe.X.(*filterExpr)
		if !ok {
			return nil, e.errAt(fe, errorf("bad filter chain"))
		}
		var err error
		if v, err = e.applyFilters(inner, v, f); err != nil {
			return nil, err
		}
	}
	return e.callFilter(fe, v, f)
}

func (e *evaluator) assign(target node, v Value, f *frame) error {
	switch t := target.(type) {
	case *nameExpr:
		f.vars[t.Name] = v
		return nil
	case *tupleExpr:
		items, err := iterate(v)
		if err != nil {
			return e.errAt(t, err)
		}
		if len(items) != len(t.Items) {
			if len(items) > len(t.Items) {
				return e.errAt(t, errorf("too many values to unpack (expected %d)", len(t.Items)))
			}
			return e.errAt(t, errorf("not enough values to unpack (expected %d, got %d)", len(t.Items), len(items)))
		}
		for i, it := range t.Items {
			if err := e.assign(it, items[i], f); err != nil {
				return err
			}
		}
		return nil
	case *nsRef:
		ns, ok := f.lookup(t.Name)
		n, isNS := ns.(*Namespace)
		if !ok || !isNS {
			return e.errAt(t, errorf("cannot assign attribute on non-namespace object"))
		}
		if strings.HasPrefix(t.Attr, "_") {
			return e.errAt(t, kindErrorf(Security, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got %s. Please rename the attribute.", Repr(t.Attr)))
		}
		n.Attrs.Set(t.Attr, v)
		return nil
	}
	return e.errAt(target, errorf("can't assign"))
}

// Loop is the loop variable of a for loop.
type Loop struct {
	items  []Value
	index0 int
}

func (e *evaluator) execFor(s *forStmt, f *frame, b *strings.Builder) error {
	it, err := e.eval(s.Iter, f)
	if err != nil {
		return err
	}
	items, err := iterate(it)
	if err != nil {
		return e.errAt(s.Iter, err)
	}
	if s.Filter != nil {
		var kept []Value
		for _, item := range items {
			if err := e.tick(s); err != nil {
				return err
			}
			g := &frame{vars: map[string]Value{}, parent: f}
			if err := e.assign(s.Target, item, g); err != nil {
				return err
			}
			c, err := e.eval(s.Filter, g)
			if err != nil {
				return err
			}
			if Truth(c) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		// The else branch runs in the loop's scope: its sets do not leak.
		_, err := e.execBody(s.Else, &frame{vars: map[string]Value{}, parent: f}, b)
		return err
	}
	loop := &Loop{items: items}
	for i, item := range items {
		if err := e.tick(s); err != nil {
			return err
		}
		g := &frame{vars: map[string]Value{}, parent: f}
		l := *loop
		l.index0 = i
		g.vars["loop"] = &l
		if err := e.assign(s.Target, item, g); err != nil {
			return err
		}
		c, err := e.execBody(s.Body, g, b)
		if err != nil {
			return err
		}
		if c == ctrlBreak {
			break
		}
	}
	return nil
}

// tick counts one loop iteration or macro call against the budget.
func (e *evaluator) tick(n node) error {
	e.iterations++
	if e.iterations > e.opts.Limits.MaxIterations {
		err := kindErrorf(Limit, "more than %d loop iterations and macro calls", e.opts.Limits.MaxIterations)
		if n == nil {
			return err
		}
		return e.errAt(n, err)
	}
	return nil
}

func (l *Loop) attr(name string) (Value, bool) {
	n := len(l.items)
	switch name {
	case "index":
		return int64(l.index0 + 1), true
	case "index0":
		return int64(l.index0), true
	case "revindex":
		return int64(n - l.index0), true
	case "revindex0":
		return int64(n - l.index0 - 1), true
	case "first":
		return l.index0 == 0, true
	case "last":
		return l.index0 == n-1, true
	case "length":
		return int64(n), true
	case "depth":
		return int64(1), true
	case "depth0":
		return int64(0), true
	case "previtem":
		if l.index0 == 0 {
			return Undefined{Hint: "there is no previous item"}, true
		}
		return l.items[l.index0-1], true
	case "nextitem":
		if l.index0 == n-1 {
			return Undefined{Hint: "there is no next item"}, true
		}
		return l.items[l.index0+1], true
	case "cycle":
		return &Func{Name: "cycle", Fn: func(_ *evaluator, args []Value, kw *Dict) (Value, error) {
			if len(args) == 0 {
				return nil, errorf("no items for cycling given")
			}
			return args[l.index0%len(args)], nil
		}}, true
	}
	return nil, false
}

// iterate lists the items Python's iter(v) yields: a list's or tuple's
// items, a str's characters, a dict's keys; Undefined yields nothing.
func iterate(v Value) ([]Value, error) {
	switch x := v.(type) {
	case *List:
		return x.Items, nil
	case *Tuple:
		return x.Items, nil
	case *Dict:
		return x.keys, nil
	case *View:
		return x.Items, nil
	case *Iter:
		var out []Value
		for {
			v, ok, err := x.Next()
			if err != nil {
				return nil, err
			}
			if !ok {
				return out, nil
			}
			out = append(out, v)
		}
	case string:
		return chars(x), nil
	case Markup:
		return chars(string(x)), nil
	case Undefined:
		if x.Unsafe {
			return nil, kindErrorf(Security, "%s", x.Hint)
		}
		return nil, nil
	}
	return nil, errorf("'%s' object is not iterable", typeName(v))
}

func chars(s string) []Value {
	out := make([]Value, 0, len(s))
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}
