package jinja

import (
	"math"
	"strings"
)

// Arithmetic and comparison with Python's semantics. bool is an int (True
// is 1); int64 overflow is an error instead of a big integer.

func asNumber(v Value) (i int64, f float64, isInt, ok bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, 1, true, true
		}
		return 0, 0, true, true
	case int64:
		return x, float64(x), true, true
	case float64:
		return 0, x, false, true
	}
	return 0, 0, false, false
}

func unary(op string, v Value) (Value, error) {
	if u, ok := v.(Undefined); ok {
		return nil, undefinedError(u)
	}
	i, f, isInt, ok := asNumber(v)
	if !ok {
		return nil, errorf("bad operand type for unary %s: '%s'", op, typeName(v))
	}
	if op == "+" {
		if isInt {
			return i, nil
		}
		return f, nil
	}
	if isInt {
		if i == math.MinInt64 {
			return nil, errorf("integer overflow")
		}
		return -i, nil
	}
	return -f, nil
}

func opError(op string, l, r Value) error {
	return errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

func seqItems(v Value) ([]Value, bool) {
	switch x := v.(type) {
	case *List:
		return x.Items, true
	case *Tuple:
		return x.Items, true
	}
	return nil, false
}

func binary(op string, l, r Value) (Value, error) {
	if ls, ok := strOf(l); ok && op == "%" {
		// str.__mod__ runs before any __rmod__: an Undefined operand is a
		// mapping to it.
		return printfNoDirectives(ls, r)
	}
	if u, ok := l.(Undefined); ok {
		return nil, undefinedError(u)
	}
	if u, ok := r.(Undefined); ok {
		return nil, undefinedError(u)
	}
	li, lf, lInt, lNum := asNumber(l)
	ri, rf, rInt, rNum := asNumber(r)
	if lNum && rNum {
		return arith(op, li, lf, lInt, ri, rf, rInt)
	}
	switch op {
	case "+":
		if ls, ok := strOf(l); ok {
			if rs, ok := strOf(r); ok {
				if len(ls)+len(rs) > maxString {
					return nil, kindErrorf(Limit, "string longer than %d bytes", maxString)
				}
				if _, m := l.(Markup); m {
					return Markup(ls + escapeHTML(r)), nil
				}
				return ls + rs, nil
			}
		}
		switch a := l.(type) {
		case *List:
			if b, ok := r.(*List); ok {
				if len(a.Items)+len(b.Items) > maxString/32 {
					return nil, kindErrorf(Limit, "list longer than %d items", maxString/32)
				}
				out := make([]Value, 0, len(a.Items)+len(b.Items))
				return &List{Items: append(append(out, a.Items...), b.Items...)}, nil
			}
			return nil, errorf("can only concatenate list (not \"%s\") to list", typeName(r))
		case *Tuple:
			if b, ok := r.(*Tuple); ok {
				out := make([]Value, 0, len(a.Items)+len(b.Items))
				return &Tuple{Items: append(append(out, a.Items...), b.Items...)}, nil
			}
			return nil, errorf("can only concatenate tuple (not \"%s\") to tuple", typeName(r))
		case string:
			return nil, errorf("can only concatenate str (not \"%s\") to str", typeName(r))
		}
	case "*":
		if lNum && lInt {
			return repeat(r, li, l)
		}
		if rNum && rInt {
			return repeat(l, ri, r)
		}
	}
	return nil, opError(op, l, r)
}

func strOf(v Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Markup:
		return string(x), true
	}
	return "", false
}

// maxString bounds every string a template builds (repetition,
// concatenation, replace, join, repr); maxRepeat is the same bound for
// repetitions.
const (
	maxString = 32 << 20
	maxRepeat = maxString
)

func repeat(seq Value, n int64, num Value) (Value, error) {
	if n < 0 {
		n = 0
	}
	if n > maxRepeat {
		if l, _ := length(seq); l > 0 {
			return nil, kindErrorf(Limit, "repetition longer than %d", maxRepeat)
		}
		n = 0
	}
	switch s := seq.(type) {
	case string:
		if int64(len(s))*n > maxRepeat {
			return nil, kindErrorf(Limit, "repeated string longer than %d bytes", maxRepeat)
		}
		return strings.Repeat(s, int(n)), nil
	case Markup:
		if int64(len(s))*n > maxRepeat {
			return nil, kindErrorf(Limit, "repeated string longer than %d bytes", maxRepeat)
		}
		return Markup(strings.Repeat(string(s), int(n))), nil
	case *List, *Tuple:
		items, _ := seqItems(s)
		if int64(len(items))*n > maxRepeat/16 {
			return nil, kindErrorf(Limit, "repeated list longer than %d items", maxRepeat/16)
		}
		out := make([]Value, 0, len(items)*int(n))
		for k := int64(0); k < n; k++ {
			out = append(out, items...)
		}
		if _, ok := s.(*Tuple); ok {
			return &Tuple{Items: out}, nil
		}
		return &List{Items: out}, nil
	}
	return nil, errorf("can't multiply sequence by non-int of type '%s'", typeName(num))
}

func arith(op string, li int64, lf float64, lInt bool, ri int64, rf float64, rInt bool) (Value, error) {
	both := lInt && rInt
	overflow := errorf("integer overflow")
	switch op {
	case "+":
		if both {
			s := li + ri
			if (s > li) != (ri > 0) {
				return nil, overflow
			}
			return s, nil
		}
		return lf + rf, nil
	case "-":
		if both {
			s := li - ri
			if (s < li) != (ri > 0) {
				return nil, overflow
			}
			return s, nil
		}
		return lf - rf, nil
	case "*":
		if both {
			if li != 0 && ri != 0 {
				p := li * ri
				if p/ri != li || (li == -1 && ri == math.MinInt64) || (ri == -1 && li == math.MinInt64) {
					return nil, overflow
				}
				return p, nil
			}
			return int64(0), nil
		}
		return lf * rf, nil
	case "/":
		if rf == 0 {
			return nil, kindErrorf(Type, "division by zero")
		}
		return lf / rf, nil
	case "//":
		if both {
			if ri == 0 {
				return nil, kindErrorf(Type, "integer division or modulo by zero")
			}
			q := li / ri
			if (li%ri != 0) && ((li < 0) != (ri < 0)) {
				q--
			}
			return q, nil
		}
		if rf == 0 {
			return nil, kindErrorf(Type, "float floor division by zero")
		}
		return math.Floor(lf / rf), nil
	case "%":
		if both {
			if ri == 0 {
				return nil, kindErrorf(Type, "integer division or modulo by zero")
			}
			m := li % ri
			if m != 0 && ((m < 0) != (ri < 0)) {
				m += ri
			}
			return m, nil
		}
		if rf == 0 {
			return nil, kindErrorf(Type, "float modulo")
		}
		m := math.Mod(lf, rf)
		if m != 0 && ((m < 0) != (rf < 0)) {
			m += rf
		}
		if m == 0 {
			m = math.Copysign(0, rf)
		}
		return m, nil
	case "**":
		if both && ri >= 0 {
			r := int64(1)
			b := li
			for k := ri; k > 0; k >>= 1 {
				if k&1 == 1 {
					n := r * b
					if b != 0 && n/b != r {
						return nil, overflow
					}
					r = n
				}
				if k > 1 {
					n := b * b
					if b != 0 && n/b != b {
						return nil, overflow
					}
					b = n
				}
			}
			return r, nil
		}
		if lf == 0 && rf < 0 {
			return nil, kindErrorf(Type, "0.0 cannot be raised to a negative power")
		}
		return math.Pow(lf, rf), nil
	}
	return nil, errorf("unsupported operator %s", op)
}

// Equal is Python's ==.
func Equal(a, b Value) bool {
	if ua, ok := a.(Undefined); ok {
		_, ok := b.(Undefined)
		return ok && !ua.Unsafe
	}
	ai, af, aInt, aNum := asNumber(a)
	bi, bf, bInt, bNum := asNumber(b)
	if aNum || bNum {
		if !(aNum && bNum) {
			return false
		}
		if aInt && bInt {
			return ai == bi
		}
		return af == bf
	}
	if as, ok := strOf(a); ok {
		bs, ok := strOf(b)
		return ok && as == bs
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case *List:
		y, ok := b.(*List)
		return ok && equalItems(x.Items, y.Items)
	case *Tuple:
		y, ok := b.(*Tuple)
		return ok && equalItems(x.Items, y.Items)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			v, ok := y.Get(k)
			if !ok || !Equal(x.vals[i], v) {
				return false
			}
		}
		return true
	}
	return a == b
}

func equalItems(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// less is Python's a < b; types without an order are a TypeError.
func less(a, b Value, op string) (bool, error) {
	if u, ok := a.(Undefined); ok {
		return false, undefinedError(u)
	}
	if u, ok := b.(Undefined); ok {
		return false, undefinedError(u)
	}
	ai, af, aInt, aNum := asNumber(a)
	bi, bf, bInt, bNum := asNumber(b)
	if aNum && bNum {
		if aInt && bInt {
			return ai < bi, nil
		}
		return af < bf, nil
	}
	if as, ok := strOf(a); ok {
		if bs, ok := strOf(b); ok {
			return as < bs, nil
		}
	}
	_, aList := a.(*List)
	_, bList := b.(*List)
	_, aTup := a.(*Tuple)
	_, bTup := b.(*Tuple)
	if (aList && bList) || (aTup && bTup) {
		x, _ := seqItems(a)
		y, _ := seqItems(b)
		for i := 0; i < len(x) && i < len(y); i++ {
			if !Equal(x[i], y[i]) {
				return less(x[i], y[i], op)
			}
		}
		return len(x) < len(y), nil
	}
	return false, errorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

func compare(op string, l, r Value) (bool, error) {
	switch op {
	case "==":
		return Equal(l, r), nil
	case "!=":
		return !Equal(l, r), nil
	case "<":
		return less(l, r, op)
	case ">":
		return less(r, l, op)
	case "<=":
		lt, err := less(l, r, op)
		if err != nil || lt {
			return lt, err
		}
		return Equal(l, r), nil
	case ">=":
		lt, err := less(r, l, op)
		if err != nil || lt {
			return lt, err
		}
		return Equal(l, r), nil
	case "in":
		return contains(r, l)
	case "notin":
		in, err := contains(r, l)
		return !in, err
	}
	return false, errorf("unsupported comparison %s", op)
}

// contains is Python's item in container.
func contains(container, item Value) (bool, error) {
	switch c := container.(type) {
	case string, Markup:
		s, ok := strOf(item)
		if !ok {
			if u, isU := item.(Undefined); isU {
				return false, undefinedError(u)
			}
			return false, errorf("'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(Str(c), s), nil
	case *List, *Tuple, *View:
		var items []Value
		if vw, ok := c.(*View); ok {
			items = vw.Items
		} else {
			items, _ = seqItems(c)
		}
		for _, it := range items {
			if Equal(it, item) {
				return true, nil
			}
		}
		return false, nil
	case *Iter:
		for {
			v, ok, err := c.Next()
			if err != nil || !ok {
				return false, err
			}
			if Equal(v, item) {
				return true, nil
			}
		}
	case *Dict:
		if _, isU := item.(Undefined); isU {
			return false, nil
		}
		if _, ok := hashKey(item); !ok {
			return false, errorf("unhashable type: '%s'", typeName(item))
		}
		_, ok := c.Get(item)
		return ok, nil
	case Undefined:
		return false, nil
	}
	return false, errorf("argument of type '%s' is not iterable", typeName(container))
}

func escapeHTML(v Value) string {
	if m, ok := v.(Markup); ok {
		return string(m)
	}
	r := strings.NewReplacer("&", "&amp;", ">", "&gt;", "<", "&lt;", "'", "&#39;", "\"", "&#34;")
	return r.Replace(Str(v))
}

// printfNoDirectives is Python's fmt % arg for a format without directives:
// the format itself when arg is a mapping-like value (a dict, a list,
// Undefined: anything with __getitem__ but a tuple or a str) or an empty
// tuple, else "not all arguments converted". Formats with % directives
// are not supported.
func printfNoDirectives(format string, arg Value) (Value, error) {
	if strings.Contains(format, "%") {
		return nil, errorf("unsupported printf-style formatting (str %% ...)")
	}
	switch a := arg.(type) {
	case *Dict, *List, Undefined:
		return format, nil
	case *Tuple:
		if len(a.Items) == 0 {
			return format, nil
		}
	}
	return nil, errorf("not all arguments converted during string formatting")
}
