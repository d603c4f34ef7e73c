package jinja

import (
	"strings"
)

// eval evaluates n, charging the strings, lists and dicts it builds to the
// work budget.
func (e *evaluator) eval(n node, f *frame) (Value, error) {
	v, err := e.eval1(n, f)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		e.work += len(x)
	case *List:
		e.work += 8 * len(x.Items)
	case *Dict:
		e.work += 16 * x.Len()
	}
	if e.work > e.opts.Limits.MaxWork {
		return nil, e.errAt(n, kindErrorf(Limit, "more than %d bytes of values built", e.opts.Limits.MaxWork))
	}
	return v, nil
}

func (e *evaluator) eval1(n node, f *frame) (Value, error) {
	switch x := n.(type) {
	case *constExpr:
		return x.V, nil
	case *nameExpr:
		if v, ok := f.lookup(x.Name); ok {
			return v, nil
		}
		if g, ok := globals[x.Name]; ok {
			return g, nil
		}
		return undefinedName(x.Name), nil
	case *listExpr:
		items, err := e.evalAll(x.Items, f)
		if err != nil {
			return nil, err
		}
		return &List{Items: items}, nil
	case *tupleExpr:
		items, err := e.evalAll(x.Items, f)
		if err != nil {
			return nil, err
		}
		return &Tuple{Items: items}, nil
	case *dictExpr:
		d := NewDict()
		for i := range x.Keys {
			k, err := e.eval(x.Keys[i], f)
			if err != nil {
				return nil, err
			}
			v, err := e.eval(x.Vals[i], f)
			if err != nil {
				return nil, err
			}
			if !d.Set(k, v) {
				return nil, e.errAt(x, errorf("unhashable type: '%s'", typeName(k)))
			}
		}
		return d, nil
	case *getattrExpr:
		obj, err := e.eval(x.X, f)
		if err != nil {
			return nil, err
		}
		v, err := getAttr(obj, x.Attr)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return v, nil
	case *getitemExpr:
		obj, err := e.eval(x.X, f)
		if err != nil {
			return nil, err
		}
		k, err := e.eval(x.Key, f)
		if err != nil {
			return nil, err
		}
		v, err := getItem(obj, k)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return v, nil
	case *sliceExpr:
		return e.evalSlice(x, f)
	case *callExpr:
		fn, err := e.eval(x.Fn, f)
		if err != nil {
			return nil, err
		}
		args, kw, err := e.evalArgs(x.Args, f)
		if err != nil {
			return nil, err
		}
		v, err := e.call(fn, args, kw)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return v, nil
	case *filterExpr:
		v, err := e.eval(x.X, f)
		if err != nil {
			return nil, err
		}
		return e.callFilter(x, v, f)
	case *testExpr:
		v, err := e.eval(x.X, f)
		if err != nil {
			return nil, err
		}
		args, kw, err := e.evalArgs(x.Args, f)
		if err != nil {
			return nil, err
		}
		r, err := testTable[x.Name](v, args, kw)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return r, nil
	case *unaryExpr:
		v, err := e.eval(x.X, f)
		if err != nil {
			return nil, err
		}
		if x.Op == "not" {
			return !Truth(v), nil
		}
		r, err := unary(x.Op, v)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return r, nil
	case *binaryExpr:
		l, err := e.eval(x.L, f)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case "and":
			if !Truth(l) {
				return l, nil
			}
			return e.eval(x.R, f)
		case "or":
			if Truth(l) {
				return l, nil
			}
			return e.eval(x.R, f)
		}
		r, err := e.eval(x.R, f)
		if err != nil {
			return nil, err
		}
		v, err := binary(x.Op, l, r)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		return v, nil
	case *concatExpr:
		var sb strings.Builder
		for _, it := range x.Items {
			v, err := e.eval(it, f)
			if err != nil {
				return nil, err
			}
			if u, ok := v.(Undefined); ok && u.Unsafe {
				return nil, e.errAt(x, kindErrorf(Security, "%s", u.Hint))
			}
			sb.WriteString(Str(v))
			if sb.Len() > maxString {
				return nil, e.errAt(x, kindErrorf(Limit, "string longer than %d bytes", maxString))
			}
		}
		return sb.String(), nil
	case *compareExpr:
		l, err := e.eval(x.First, f)
		if err != nil {
			return nil, err
		}
		for i, op := range x.Ops {
			r, err := e.eval(x.Rest[i], f)
			if err != nil {
				return nil, err
			}
			ok, err := compare(op, l, r)
			if err != nil {
				return nil, e.errAt(x, err)
			}
			if !ok {
				return false, nil
			}
			l = r
		}
		return true, nil
	case *condExpr:
		c, err := e.eval(x.Test, f)
		if err != nil {
			return nil, err
		}
		if Truth(c) {
			return e.eval(x.Then, f)
		}
		if x.Else == nil {
			return Undefined{Hint: sprintf("the inline if-expression on line %d evaluated to false and no else section was defined.", x.Line)}, nil
		}
		return e.eval(x.Else, f)
	}
	return nil, e.errAt(n, errorf("unsupported expression"))
}

func (e *evaluator) evalAll(ns []node, f *frame) ([]Value, error) {
	out := make([]Value, len(ns))
	for i, n := range ns {
		v, err := e.eval(n, f)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (e *evaluator) evalArgs(a callArgs, f *frame) ([]Value, *Dict, error) {
	args, err := e.evalAll(a.Pos, f)
	if err != nil {
		return nil, nil, err
	}
	var kw *Dict
	if len(a.KwNames) > 0 {
		kw = NewDict()
		for i, k := range a.KwNames {
			v, err := e.eval(a.KwVals[i], f)
			if err != nil {
				return nil, nil, err
			}
			kw.Set(k, v)
		}
	}
	return args, kw, nil
}

func (e *evaluator) evalSlice(x *sliceExpr, f *frame) (Value, error) {
	obj, err := e.eval(x.X, f)
	if err != nil {
		return nil, err
	}
	var bounds [3]*int64
	for i, n := range []node{x.Start, x.Stop, x.Step} {
		if n == nil {
			continue
		}
		v, err := e.eval(n, f)
		if err != nil {
			return nil, err
		}
		switch b := v.(type) {
		case nil:
		case int64:
			bounds[i] = &b
		case bool:
			iv := int64(0)
			if b {
				iv = 1
			}
			bounds[i] = &iv
		default:
			return nil, e.errAt(x, errorf("slice indices must be integers or None or have an __index__ method"))
		}
	}
	var items []Value
	switch o := obj.(type) {
	case *List:
		items = o.Items
	case *Tuple:
		items = o.Items
	case string, Markup:
		rs := []rune(Str(o))
		sel, err := sliceIndices(len(rs), bounds)
		if err != nil {
			return nil, e.errAt(x, err)
		}
		out := make([]rune, 0, len(sel))
		for _, i := range sel {
			out = append(out, rs[i])
		}
		return string(out), nil
	case Undefined:
		return nil, e.errAt(x, undefinedError(o))
	case *Dict:
		return nil, e.errAt(x, errorf("unhashable type: 'slice'"))
	default:
		// Slices bypass the sandbox's getitem: a TypeError, not Undefined.
		return nil, e.errAt(x, errorf("'%s' object is not subscriptable", typeName(obj)))
	}
	sel, err := sliceIndices(len(items), bounds)
	if err != nil {
		return nil, e.errAt(x, err)
	}
	out := make([]Value, 0, len(sel))
	for _, i := range sel {
		out = append(out, items[i])
	}
	if _, ok := obj.(*Tuple); ok {
		return &Tuple{Items: out}, nil
	}
	return &List{Items: out}, nil
}

// sliceIndices is Python's slice.indices followed by range: the indices a
// slice [start:stop:step] selects from a sequence of length n.
func sliceIndices(n int, b [3]*int64) ([]int, error) {
	step := int64(1)
	if b[2] != nil {
		step = *b[2]
		if step == 0 {
			return nil, kindErrorf(Type, "slice step cannot be zero")
		}
	}
	ln := int64(n)
	clamp := func(p *int64, def int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += ln
			if v < 0 {
				if step < 0 {
					return -1
				}
				return 0
			}
		} else if v >= ln {
			if step < 0 {
				return ln - 1
			}
			return ln
		}
		return v
	}
	var start, stop int64
	if step > 0 {
		start, stop = clamp(b[0], 0), clamp(b[1], ln)
	} else {
		start, stop = clamp(b[0], ln-1), clamp(b[1], -1)
	}
	var out []int
	if step > 0 {
		for i := start; i < stop; i += step {
			out = append(out, int(i))
		}
	} else {
		for i := start; i > stop; i += step {
			out = append(out, int(i))
		}
	}
	return out, nil
}

func undefinedError(u Undefined) error {
	if u.Unsafe {
		return kindErrorf(Security, "%s", u.Hint)
	}
	return kindErrorf(UndefinedUse, "%s", u.Hint)
}

// call calls fn with positional args and keyword arguments kw (may be nil).
func (e *evaluator) call(fn Value, args []Value, kw *Dict) (Value, error) {
	switch c := fn.(type) {
	case *Func:
		return c.Fn(e, args, kw)
	case *Macro:
		return e.callMacro(c, args, kw)
	case Undefined:
		return nil, undefinedError(c)
	}
	return nil, errorf("'%s' object is not callable", typeName(fn))
}

func (e *evaluator) callMacro(m *Macro, args []Value, kw *Dict) (Value, error) {
	s := m.node
	if len(args) > len(s.Params) {
		return nil, errorf("macro '%s' takes not more than %d argument(s)", s.Name, len(s.Params))
	}
	if err := e.tick(nil); err != nil {
		return nil, err
	}
	if e.depth >= e.opts.Limits.MaxDepth {
		return nil, kindErrorf(Limit, "macro calls nested deeper than %d", e.opts.Limits.MaxDepth)
	}
	g := &frame{vars: map[string]Value{}, parent: m.env}
	firstDefault := len(s.Params) - len(s.Defaults)
	for i, p := range s.Params {
		if i < len(args) {
			g.vars[p] = args[i]
			if kw != nil {
				if _, dup := kw.Get(p); dup {
					return nil, errorf("macro '%s' got multiple values for argument '%s'", s.Name, p)
				}
			}
			continue
		}
		if kw != nil {
			if v, ok := kw.Get(p); ok {
				g.vars[p] = v
				continue
			}
		}
		if i >= firstDefault {
			v, err := e.eval(s.Defaults[i-firstDefault], g)
			if err != nil {
				return nil, err
			}
			g.vars[p] = v
			continue
		}
		g.vars[p] = Undefined{Hint: sprintf("parameter '%s' was not provided", p)}
	}
	if kw != nil {
		for _, k := range kw.keys {
			name := Str(k)
			known := false
			for _, p := range s.Params {
				known = known || p == name
			}
			if !known {
				return nil, errorf("macro '%s' takes no keyword argument '%s'", s.Name, name)
			}
		}
	}
	e.depth++
	defer func() { e.depth-- }()
	var b strings.Builder
	if _, err := e.execBody(s.Body, g, &b); err != nil {
		return nil, err
	}
	return b.String(), nil
}
