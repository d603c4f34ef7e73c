package jinja

import "math"

// testFn is one test ("x is name(args)").
type testFn func(v Value, args []Value, kw *Dict) (Value, error)

// testTable lists the supported tests, with jinja2's semantics. Any other
// name is refused when parsing.
var testTable map[string]testFn

func oneArg(name string, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs(name, []string{"other"}, 1, args, kw)
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

func pred(name string, fn func(Value) bool) testFn {
	return func(v Value, args []Value, kw *Dict) (Value, error) {
		if len(args) > 0 || kw != nil {
			return nil, errorf("test_%s() takes 1 positional argument but %d were given", name, len(args)+1)
		}
		return fn(v), nil
	}
}

func cmpTest(name, op string) testFn {
	return func(v Value, args []Value, kw *Dict) (Value, error) {
		o, err := oneArg(name, args, kw)
		if err != nil {
			return nil, err
		}
		return compare(op, v, o)
	}
}

func isInteger(v Value) bool { _, ok := v.(int64); return ok }

func init() {
	testTable = map[string]testFn{
		"defined":   pred("defined", func(v Value) bool { _, u := v.(Undefined); return !u }),
		"undefined": pred("undefined", func(v Value) bool { _, u := v.(Undefined); return u }),
		"none":      pred("none", func(v Value) bool { return v == nil }),
		"string":    pred("string", func(v Value) bool { _, ok := strOf(v); return ok }),
		"number": pred("number", func(v Value) bool {
			_, _, _, ok := asNumber(v)
			return ok
		}),
		"integer": pred("integer", isInteger),
		"float":   pred("float", func(v Value) bool { _, ok := v.(float64); return ok }),
		"boolean": pred("boolean", func(v Value) bool { _, ok := v.(bool); return ok }),
		"true":    pred("true", func(v Value) bool { b, ok := v.(bool); return ok && b }),
		"false":   pred("false", func(v Value) bool { b, ok := v.(bool); return ok && !b }),
		"mapping": pred("mapping", func(v Value) bool { _, ok := v.(*Dict); return ok }),
		"iterable": pred("iterable", func(v Value) bool {
			switch x := v.(type) {
			case *List, *Tuple, *Dict, string, Markup, *Iter, *View:
				return true
			case Undefined:
				return !x.Unsafe
			}
			return false
		}),
		"sequence": pred("sequence", func(v Value) bool {
			switch v.(type) {
			case *List, *Tuple, *Dict, string, Markup, Undefined:
				return true
			}
			return false
		}),
		"callable": pred("callable", func(v Value) bool {
			switch v.(type) {
			case *Func, *Macro, Undefined:
				return true
			}
			return false
		}),
		// lower and upper test str(value), as jinja2 does.
		"lower": pred("lower", func(v Value) bool { return strNoArg(Str(v), "islower") == true }),
		"upper": pred("upper", func(v Value) bool { return strNoArg(Str(v), "isupper") == true }),
		"even":  parity(0),
		"odd":   parity(1),
		"divisibleby": func(v Value, args []Value, kw *Dict) (Value, error) {
			o, err := oneArg("divisibleby", args, kw)
			if err != nil {
				return nil, err
			}
			m, err := binary("%", v, o)
			if err != nil {
				return nil, err
			}
			return Equal(m, int64(0)), nil
		},
		"eq": cmpTest("eq", "=="), "equalto": cmpTest("eq", "=="), "==": cmpTest("eq", "=="),
		"ne": cmpTest("ne", "!="), "!=": cmpTest("ne", "!="),
		"lt": cmpTest("lt", "<"), "lessthan": cmpTest("lt", "<"), "<": cmpTest("lt", "<"),
		"le": cmpTest("le", "<="), "<=": cmpTest("le", "<="),
		"gt": cmpTest("gt", ">"), "greaterthan": cmpTest("gt", ">"), ">": cmpTest("gt", ">"),
		"ge": cmpTest("ge", ">="), ">=": cmpTest("ge", ">="),
		"in": func(v Value, args []Value, kw *Dict) (Value, error) {
			o, err := oneArg("in", args, kw)
			if err != nil {
				return nil, err
			}
			return contains(o, v)
		},
		"sameas": func(v Value, args []Value, kw *Dict) (Value, error) {
			o, err := oneArg("sameas", args, kw)
			if err != nil {
				return nil, err
			}
			// Python's "is": exact for the singletons None, True and False
			// and for containers; for str and numbers it depends on
			// CPython's object caching, which is not reproduced.
			switch o.(type) {
			case nil, bool:
				return v == o, nil
			}
			switch x := v.(type) {
			case nil, bool:
				return false, nil
			case *List, *Dict, *Tuple, *Namespace, *Iter, *View:
				return x == o, nil
			}
			return false, errorf("unsupported sameas on %s", typeName(v))
		},
	}
}

func parity(want int64) testFn {
	return func(v Value, args []Value, kw *Dict) (Value, error) {
		if len(args) > 0 || kw != nil {
			return nil, errorf("test takes 1 positional argument")
		}
		i, f, isInt, ok := asNumber(v)
		if !ok {
			return nil, errorf("not all arguments converted during string formatting")
		}
		if !isInt {
			m := math.Mod(f, 2)
			if m < 0 {
				m += 2
			}
			return m == float64(want), nil
		}
		m := i % 2
		if m < 0 {
			m += 2
		}
		return m == want, nil
	}
}
