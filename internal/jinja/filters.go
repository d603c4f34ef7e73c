package jinja

import (
	"math"
	"strconv"
	"strings"
)

// filterFn is one filter: the value, then the call's arguments.
type filterFn func(e *evaluator, v Value, args []Value, kw *Dict) (Value, error)

// filterTable lists the supported filters (jinja2's semantics; tojson is
// transformers' own). Any other name is refused when parsing.
var filterTable map[string]filterFn

func init() {
	filterTable = map[string]filterFn{
		"tojson":     fTojson,
		"length":     fLength,
		"count":      fLength,
		"trim":       fTrim,
		"string":     fString,
		"default":    fDefault,
		"d":          fDefault,
		"items":      fItems,
		"list":       fList,
		"first":      fFirst,
		"last":       fLast,
		"join":       fJoin,
		"safe":       fSafe,
		"upper":      fStrFunc("upper", pyUpper),
		"lower":      fStrFunc("lower", pyLower),
		"capitalize": fStrFunc("capitalize", pyCapitalize),
		"title":      fStrFunc("title", jinjaTitle),
		"replace":    fReplace,
		"reverse":    fReverse,
		"map":        fMap,
		"select":     fSelect(false, false),
		"reject":     fSelect(true, false),
		"selectattr": fSelect(false, true),
		"rejectattr": fSelect(true, true),
		"int":        fInt,
		"float":      fFloat,
		"abs":        fAbs,
		"round":      fRound,
	}
}

func (e *evaluator) callFilter(x *filterExpr, v Value, f *frame) (Value, error) {
	args, kw, err := e.evalArgs(x.Args, f)
	if err != nil {
		return nil, err
	}
	r, err := filterTable[x.Name](e, v, args, kw)
	if err != nil {
		return nil, e.errAt(x, err)
	}
	return r, nil
}

func noArgs(name string, args []Value, kw *Dict) error {
	if len(args) > 0 || kw != nil {
		return errorf("%s() takes 1 positional argument but %d were given", name, len(args)+1)
	}
	return nil
}

// softStr is jinja2's soft_str: str(v), keeping Markup.
func softStr(v Value) (Value, error) {
	if u, ok := v.(Undefined); ok && u.Unsafe {
		return nil, undefinedError(u)
	}
	if m, ok := v.(Markup); ok {
		return m, nil
	}
	return Str(v), nil
}

func fStrFunc(name string, fn func(string) string) filterFn {
	return func(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
		if err := noArgs("do_"+name, args, kw); err != nil {
			return nil, err
		}
		s, err := softStr(v)
		if err != nil {
			return nil, err
		}
		if m, ok := s.(Markup); ok {
			return Markup(fn(string(m))), nil
		}
		return fn(s.(string)), nil
	}
}

// jinjaTitle is jinja2's title filter: each word (split after runs of
// whitespace, "-", "(", "{", "[", "<") gets its first character upper-cased
// and the rest lowered.
func jinjaTitle(s string) string {
	var b strings.Builder
	var word []rune
	flush := func() {
		if len(word) > 0 {
			b.WriteString(pyUpper(string(word[0])))
			lowerRunes(&b, word, 1)
			word = word[:0]
		}
	}
	for _, r := range s {
		if pyIsSpace(r) || strings.ContainsRune("-({[<", r) {
			flush()
			b.WriteRune(r)
			continue
		}
		word = append(word, r)
	}
	flush()
	return b.String()
}

func length(v Value) (int64, error) {
	switch x := v.(type) {
	case string:
		return int64(len([]rune(x))), nil
	case Markup:
		return int64(len([]rune(string(x)))), nil
	case *List:
		return int64(len(x.Items)), nil
	case *Tuple:
		return int64(len(x.Items)), nil
	case *Dict:
		return int64(x.Len()), nil
	case *Namespace:
		return 0, errorf("object of type 'Namespace' has no len()")
	case *View:
		return int64(len(x.Items)), nil
	case Undefined:
		if x.Unsafe {
			return 0, undefinedError(x)
		}
		return 0, nil
	}
	return 0, errorf("object of type '%s' has no len()", typeName(v))
}

func fLength(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("sync_do_count", args, kw); err != nil {
		return nil, err
	}
	n, err := length(v)
	if err != nil {
		return nil, err
	}
	return n, nil
}

func fTrim(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("do_trim", []string{"chars"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	s, err := softStr(v)
	if err != nil {
		return nil, err
	}
	chars, err := optChars("strip", vals[:1])
	if err != nil {
		return nil, err
	}
	out := pyStrip(Str(s), chars, true, true)
	if _, ok := s.(Markup); ok {
		return Markup(out), nil
	}
	return out, nil
}

func fString(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("do_string", args, kw); err != nil {
		return nil, err
	}
	return softStr(v)
}

func fDefault(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_default", []string{"default_value", "boolean"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	var def Value = ""
	if given[0] {
		def = vals[0]
	}
	if _, ok := v.(Undefined); ok || (Truth(vals[1]) && !Truth(v)) {
		return def, nil
	}
	return v, nil
}

func fItems(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("do_items", args, kw); err != nil {
		return nil, err
	}
	// do_items is a generator: its checks run at the first pull.
	started := false
	var items []Value
	i := 0
	return &Iter{Kind: "generator", next: func() (Value, bool, error) {
		if !started {
			started = true
			switch x := v.(type) {
			case Undefined:
				return nil, false, nil
			case *Dict:
				items = make([]Value, x.Len())
				for k, key := range x.keys {
					items[k] = &Tuple{Items: []Value{key, x.vals[k]}}
				}
			default:
				return nil, false, errorf("Can only get item pairs from a mapping.")
			}
		}
		if i >= len(items) {
			return nil, false, nil
		}
		i++
		return items[i-1], true, nil
	}}, nil
}

func fList(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("sync_do_list", args, kw); err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	return &List{Items: append([]Value{}, items...)}, nil
}

func fFirst(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("sync_do_first", args, kw); err != nil {
		return nil, err
	}
	var first Value
	var ok bool
	if it, isIter := v.(*Iter); isIter {
		var err error
		if first, ok, err = it.Next(); err != nil {
			return nil, err
		}
	} else {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) > 0 {
			first, ok = items[0], true
		}
	}
	if !ok {
		return Undefined{Hint: "No first item, sequence was empty."}, nil
	}
	return first, nil
}

func fLast(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("do_last", args, kw); err != nil {
		return nil, err
	}
	it, err := reversed(v)
	if err != nil {
		return nil, err
	}
	last, ok, err := it.Next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return Undefined{Hint: "No last item, sequence was empty."}, nil
	}
	return last, nil
}

func fJoin(e *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("sync_do_join", []string{"d", "attribute"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	sep := ""
	if vals[0] != nil {
		sep = Str(vals[0])
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	total := 0
	for i, it := range items {
		if vals[1] != nil {
			if it, err = attrPath(it, vals[1]); err != nil {
				return nil, err
			}
		}
		s, err := softStr(it)
		if err != nil {
			return nil, err
		}
		parts[i] = Str(s)
		total += len(parts[i]) + len(sep)
		if total > maxString {
			return nil, kindErrorf(Limit, "string longer than %d bytes", maxString)
		}
	}
	return strings.Join(parts, sep), nil
}

func fSafe(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("do_mark_safe", args, kw); err != nil {
		return nil, err
	}
	if u, ok := v.(Undefined); ok && u.Unsafe {
		return nil, undefinedError(u)
	}
	return Markup(Str(v)), nil
}

func fReplace(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("do_replace", []string{"old", "new", "count"}, 2, args, kw)
	if err != nil {
		return nil, err
	}
	s, err := softStr(v)
	if err != nil {
		return nil, err
	}
	n := int64(-1)
	if vals[2] != nil {
		if n, err = intArg("replace", vals[2]); err != nil {
			return nil, err
		}
	}
	return pyReplace(Str(s), Str(vals[0]), Str(vals[1]), n)
}

func fReverse(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("do_reverse", args, kw); err != nil {
		return nil, err
	}
	if s, ok := strOf(v); ok {
		return string(reversedRunes(s)), nil
	}
	if it, err := reversed(v); err == nil {
		return it, nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, errorf("argument must be iterable")
	}
	return &List{Items: reversedItems(items)}, nil
}

func reversedRunes(s string) []rune {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

func attrPath(v Value, path Value) (Value, error) {
	var parts []Value
	if s, ok := path.(string); ok {
		for _, p := range strings.Split(s, ".") {
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				parts = append(parts, n)
			} else {
				parts = append(parts, p)
			}
		}
	} else {
		parts = []Value{path}
	}
	var err error
	for _, p := range parts {
		if v, err = getItem(v, p); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func fMap(e *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	return generator(v, func() (func(Value) (Value, bool, error), error) {
		if len(args) == 0 && kw != nil {
			attr, ok := kw.Get("attribute")
			if !ok {
				return nil, errorf("map requires a filter argument")
			}
			def, hasDef := kw.Get("default")
			for _, k := range kw.keys {
				if ks := Str(k); ks != "attribute" && ks != "default" {
					return nil, errorf("Unexpected keyword argument %s", Repr(k))
				}
			}
			return func(it Value) (Value, bool, error) {
				r, err := attrPath(it, attr)
				if err != nil {
					return nil, false, err
				}
				if _, und := r.(Undefined); und && hasDef {
					r = def
				}
				return r, true, nil
			}, nil
		}
		if len(args) == 0 {
			return nil, errorf("map requires a filter argument")
		}
		name, ok := args[0].(string)
		fn, known := filterTable[name]
		if !ok || !known {
			return nil, kindErrorf(Syntax, "unsupported filter %s in map", Repr(args[0]))
		}
		return func(it Value) (Value, bool, error) {
			r, err := fn(e, it, args[1:], kw)
			return r, err == nil, err
		}, nil
	}), nil
}

func fSelect(reject, byAttr bool) filterFn {
	return func(e *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
		return generator(v, func() (func(Value) (Value, bool, error), error) {
			var attr Value
			rest := args
			if byAttr {
				if len(rest) == 0 {
					return nil, errorf("Missing parameter for attribute name")
				}
				attr, rest = rest[0], rest[1:]
			}
			pred := func(x Value) (bool, error) { return Truth(x), nil }
			if len(rest) > 0 {
				name, ok := rest[0].(string)
				t, known := testTable[name]
				if !ok || !known {
					return nil, kindErrorf(Syntax, "unsupported test %s", Repr(rest[0]))
				}
				targs := rest[1:]
				pred = func(x Value) (bool, error) {
					r, err := t(x, targs, kw)
					if err != nil {
						return false, err
					}
					return Truth(r), nil
				}
			}
			return func(it Value) (Value, bool, error) {
				x := it
				if byAttr {
					var err error
					if x, err = attrPath(it, attr); err != nil {
						return nil, false, err
					}
				}
				ok, err := pred(x)
				if err != nil {
					return nil, false, err
				}
				return it, ok != reject, nil
			}, nil
		}), nil
	}
}

func pyIntFromString(s string) (int64, bool) {
	s = strings.TrimFunc(s, pyIsSpace)
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return n, err == nil
}

func pyFloatFromString(s string) (float64, bool) {
	s = strings.TrimFunc(s, pyIsSpace)
	low := strings.ToLower(strings.TrimLeft(s, "+-"))
	switch low {
	case "inf", "infinity", "nan":
	default:
		if strings.ContainsAny(low, "xp") || strings.HasPrefix(low, "_") || strings.HasSuffix(low, "_") || strings.Contains(low, "__") {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func fInt(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_int", []string{"default", "base"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	def := Value(int64(0))
	if given[0] {
		def = vals[0]
	}
	if given[1] {
		if b, _, isInt, ok := asNumber(vals[1]); !ok || !isInt || b != 10 {
			return nil, errorf("unsupported int filter base %s", Repr(vals[1]))
		}
	}
	switch x := v.(type) {
	case Undefined:
		return nil, undefinedError(x)
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return def, nil
		}
		if math.Abs(x) >= 9.2e18 {
			return nil, errorf("integer overflow")
		}
		return int64(x), nil
	case string, Markup:
		s := Str(x)
		if n, ok := pyIntFromString(s); ok {
			return n, nil
		}
		if f, ok := pyFloatFromString(s); ok && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 9.2e18 {
			return int64(f), nil
		}
		return def, nil
	}
	return def, nil
}

func fFloat(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_float", []string{"default"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	def := Value(0.0)
	if given[0] {
		def = vals[0]
	}
	if u, ok := v.(Undefined); ok {
		return nil, undefinedError(u)
	}
	if _, f, _, ok := asNumber(v); ok {
		return f, nil
	}
	if s, ok := strOf(v); ok {
		if f, ok := pyFloatFromString(s); ok {
			return f, nil
		}
	}
	return def, nil
}

func fAbs(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	if err := noArgs("abs", args, kw); err != nil {
		return nil, err
	}
	i, f, isInt, ok := asNumber(v)
	if !ok {
		return nil, errorf("bad operand type for abs(): '%s'", typeName(v))
	}
	if isInt {
		if i == math.MinInt64 {
			return nil, errorf("integer overflow")
		}
		if i < 0 {
			return -i, nil
		}
		return i, nil
	}
	return math.Abs(f), nil
}

func fRound(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("do_round", []string{"precision", "method"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	prec := int64(0)
	if vals[0] != nil {
		if prec, err = intArg("round", vals[0]); err != nil {
			return nil, err
		}
	}
	method := "common"
	if vals[1] != nil {
		method = Str(vals[1])
	}
	i, f, isInt, ok := asNumber(v)
	if !ok {
		return nil, errorf("type %s doesn't define __round__ method", typeName(v))
	}
	switch method {
	case "common":
		if isInt {
			if prec >= 0 {
				return i, nil
			}
			return nil, errorf("unsupported round of an int to negative precision")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || prec < 0 || prec > 300 {
			if prec >= 0 {
				return f, nil
			}
			return nil, errorf("unsupported round to negative precision")
		}
		r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(prec), 64), 64)
		if r == 0 {
			r = math.Copysign(0, f)
		}
		return r, nil
	case "ceil", "floor":
		p := math.Pow(10, float64(prec))
		var r float64
		if method == "ceil" {
			r = math.Ceil(f * p)
		} else {
			r = math.Floor(f * p)
		}
		return r / p, nil
	}
	return nil, errorf("method must be common, ceil or floor")
}
