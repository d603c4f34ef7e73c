package jinja

import (
	"strings"
)

// Attribute and item access as jinja2's sandbox does it: obj.name tries
// the Python attribute (a method of str, dict or list) first and then the
// item obj["name"]; obj[key] tries the item first and then, for a string
// key, the attribute. A miss is Undefined. Methods that would mutate a
// list or dict are refused by the immutable sandbox (an Undefined whose
// use is a SecurityError), and so are names starting with "_".

var mutating = map[string]map[string]bool{
	"list": {"append": true, "clear": true, "pop": true, "reverse": true, "insert": true, "sort": true, "extend": true, "remove": true},
	"dict": {"clear": true, "pop": true, "popitem": true, "setdefault": true, "update": true},
}

func unsafeAttr(obj Value, name string) Undefined {
	return Undefined{Unsafe: true, Hint: sprintf("access to attribute '%s' of '%s' object is unsafe.", name, typeName(obj))}
}

// pyAttr returns the Python attribute name of obj, if it has one.
func pyAttr(obj Value, name string) (Value, bool) {
	if strings.HasPrefix(name, "_") {
		return nil, false
	}
	switch x := obj.(type) {
	case string:
		return strMethod(x, name)
	case Markup:
		return strMethod(string(x), name)
	case *Dict:
		if mutating["dict"][name] {
			return unsafeAttr(obj, name), true
		}
		return dictMethod(x, name)
	case *List:
		if mutating["list"][name] {
			return unsafeAttr(obj, name), true
		}
		return seqMethod(x.Items, name)
	case *Tuple:
		if name == "copy" {
			return nil, false
		}
		return seqMethod(x.Items, name)
	case *Namespace:
		v, ok := x.Attrs.Get(name)
		return v, ok
	case *Loop:
		return x.attr(name)
	case bool, int64:
		i, _, _, _ := asNumber(x)
		switch name {
		case "real", "numerator":
			return i, true
		case "imag":
			return int64(0), true
		case "denominator":
			return int64(1), true
		}
	case float64:
		switch name {
		case "real":
			return x, true
		case "imag":
			return 0.0, true
		}
	}
	return nil, false
}

func getAttr(obj Value, name string) (Value, error) {
	if u, ok := obj.(Undefined); ok {
		return nil, undefinedError(u)
	}
	if strings.HasPrefix(name, "_") {
		if _, ok := obj.(*Dict); !ok {
			return Undefined{Unsafe: true, Hint: sprintf("access to attribute '%s' of '%s' object is unsafe.", name, typeName(obj))}, nil
		}
	}
	if v, ok := pyAttr(obj, name); ok {
		return v, nil
	}
	if d, ok := obj.(*Dict); ok {
		if v, ok := d.Get(name); ok {
			return v, nil
		}
	}
	return undefinedAttr(obj, name), nil
}

func getItem(obj, key Value) (Value, error) {
	if u, ok := obj.(Undefined); ok {
		return nil, undefinedError(u)
	}
	switch x := obj.(type) {
	case *Dict:
		if v, ok := x.Get(key); ok {
			return v, nil
		}
		if _, ok := hashKey(key); !ok {
			return nil, errorf("unhashable type: '%s'", typeName(key))
		}
	case *List, *Tuple, string, Markup:
		i, _, isInt, isNum := asNumber(key)
		if isNum && isInt {
			var n int
			var get func(int) Value
			switch s := x.(type) {
			case *List:
				n, get = len(s.Items), func(k int) Value { return s.Items[k] }
			case *Tuple:
				n, get = len(s.Items), func(k int) Value { return s.Items[k] }
			default:
				rs := []rune(Str(s))
				n, get = len(rs), func(k int) Value { return string(rs[k]) }
			}
			if i < 0 {
				i += int64(n)
			}
			if i >= 0 && i < int64(n) {
				return get(int(i)), nil
			}
			return undefinedItem(obj, key), nil
		}
	}
	if s, ok := key.(string); ok {
		if v, ok := pyAttr(obj, s); ok {
			return v, nil
		}
	}
	return undefinedItem(obj, key), nil
}

func method(name string, fn func(args []Value, kw *Dict) (Value, error)) *Func {
	return &Func{Name: name, Fn: func(_ *evaluator, args []Value, kw *Dict) (Value, error) { return fn(args, kw) }}
}

// argList binds positional and keyword arguments to the parameter names;
// missing ones are nil entries with a false "given" flag.
func bindArgs(fname string, params []string, required int, args []Value, kw *Dict) ([]Value, []bool, error) {
	if len(args) > len(params) {
		return nil, nil, errorf("%s() takes at most %d arguments (%d given)", fname, len(params), len(args))
	}
	vals := make([]Value, len(params))
	given := make([]bool, len(params))
	for i, a := range args {
		vals[i], given[i] = a, true
	}
	if kw != nil {
		for i, k := range kw.keys {
			name := Str(k)
			found := false
			for j, p := range params {
				if p == name {
					if given[j] {
						return nil, nil, errorf("%s() got multiple values for argument '%s'", fname, name)
					}
					vals[j], given[j], found = kw.vals[i], true, true
				}
			}
			if !found {
				return nil, nil, errorf("%s() got an unexpected keyword argument '%s'", fname, name)
			}
		}
	}
	for i := 0; i < required; i++ {
		if !given[i] {
			return nil, nil, errorf("%s() missing required argument '%s' (pos %d)", fname, params[i], i+1)
		}
	}
	return vals, given, nil
}

func dictMethod(d *Dict, name string) (Value, bool) {
	switch name {
	case "items":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if _, _, err := bindArgs(name, nil, 0, args, kw); err != nil {
				return nil, err
			}
			out := make([]Value, d.Len())
			for i, k := range d.keys {
				out[i] = &Tuple{Items: []Value{k, d.vals[i]}}
			}
			return &View{Kind: "dict_items", Items: out}, nil
		}), true
	case "keys":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if _, _, err := bindArgs(name, nil, 0, args, kw); err != nil {
				return nil, err
			}
			return &View{Kind: "dict_keys", Items: append([]Value(nil), d.keys...)}, nil
		}), true
	case "values":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if _, _, err := bindArgs(name, nil, 0, args, kw); err != nil {
				return nil, err
			}
			return &View{Kind: "dict_values", Items: append([]Value(nil), d.vals...)}, nil
		}), true
	case "get":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if kw != nil {
				return nil, errorf("get() takes no keyword arguments")
			}
			if len(args) < 1 || len(args) > 2 {
				return nil, errorf("get expected 1 or 2 arguments, got %d", len(args))
			}
			if _, ok := hashKey(args[0]); !ok {
				return nil, errorf("unhashable type: '%s'", typeName(args[0]))
			}
			if v, ok := d.Get(args[0]); ok {
				return v, nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return nil, nil
		}), true
	case "copy":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			return d.Copy(), nil
		}), true
	}
	return nil, false
}

func seqMethod(items []Value, name string) (Value, bool) {
	switch name {
	case "index":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if len(args) < 1 || kw != nil {
				return nil, errorf("index expected at least 1 argument, got %d", len(args))
			}
			for i, it := range items {
				if Equal(it, args[0]) {
					return int64(i), nil
				}
			}
			return nil, errorf("%s is not in list", Repr(args[0]))
		}), true
	case "count":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			if len(args) != 1 || kw != nil {
				return nil, errorf("count() takes exactly one argument (%d given)", len(args))
			}
			n := int64(0)
			for _, it := range items {
				if Equal(it, args[0]) {
					n++
				}
			}
			return n, nil
		}), true
	case "copy":
		return method(name, func(args []Value, kw *Dict) (Value, error) {
			return &List{Items: append([]Value(nil), items...)}, nil
		}), true
	}
	return nil, false
}
