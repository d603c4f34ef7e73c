package jinja

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The str methods templates call, with Python's semantics: indices count
// code points, whitespace is Python's str.isspace set. upper/lower/title
// use Python's full case mappings (casing.go).

func strArg(fname string, v Value) (string, error) {
	if s, ok := strOf(v); ok {
		return s, nil
	}
	return "", errorf("%s arg must be None or str", fname)
}

// optChars reads an optional chars argument (None or str).
func optChars(fname string, args []Value) (*string, error) {
	if len(args) == 0 || args[0] == nil {
		return nil, nil
	}
	s, err := strArg(fname, args[0])
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func intArg(fname string, v Value) (int64, error) {
	i, _, isInt, ok := asNumber(v)
	if !ok || !isInt {
		return 0, errorf("'%s' object cannot be interpreted as an integer", typeName(v))
	}
	return i, nil
}

func strMethod(s string, name string) (Value, bool) {
	m := func(fn func(args []Value, kw *Dict) (Value, error)) (Value, bool) {
		return method(name, fn), true
	}
	switch name {
	case "startswith", "endswith":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) != 1 || kw != nil {
				return nil, errorf("unsupported arguments to str.%s: only a prefix (a str or a tuple of str) is supported", name)
			}
			var cands []Value
			switch a := args[0].(type) {
			case *Tuple:
				cands = a.Items
			case string, Markup:
				cands = []Value{a}
			default:
				return nil, errorf("%s first arg must be str or a tuple of str, not %s", name, typeName(a))
			}
			for _, c := range cands {
				cs, ok := strOf(c)
				if !ok {
					return nil, errorf("tuple for %s must only contain str, not %s", name, typeName(c))
				}
				if (name == "startswith" && strings.HasPrefix(s, cs)) || (name == "endswith" && strings.HasSuffix(s, cs)) {
					return true, nil
				}
			}
			return false, nil
		})
	case "strip", "lstrip", "rstrip":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) > 1 || kw != nil {
				return nil, errorf("%s expected at most 1 argument, got %d", name, len(args))
			}
			chars, err := optChars(name, args)
			if err != nil {
				return nil, err
			}
			return pyStrip(s, chars, name != "rstrip", name != "lstrip"), nil
		})
	case "split", "rsplit":
		return m(func(args []Value, kw *Dict) (Value, error) {
			vals, _, err := bindArgs(name, []string{"sep", "maxsplit"}, 0, args, kw)
			if err != nil {
				return nil, err
			}
			max := int64(-1)
			if vals[1] != nil {
				if max, err = intArg(name, vals[1]); err != nil {
					return nil, err
				}
			}
			var parts []string
			if vals[0] == nil {
				parts = splitWhitespace(s, int(max), name == "rsplit")
			} else {
				sep, err := strArg(name, vals[0])
				if err != nil {
					return nil, err
				}
				if sep == "" {
					return nil, kindErrorf(Type, "empty separator")
				}
				parts = splitSep(s, sep, int(max), name == "rsplit")
			}
			out := make([]Value, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return &List{Items: out}, nil
		})
	case "replace":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) < 2 || len(args) > 3 || kw != nil {
				return nil, errorf("replace expected 2 or 3 arguments, got %d", len(args))
			}
			old, err := strArg(name, args[0])
			if err != nil {
				return nil, err
			}
			nw, err := strArg(name, args[1])
			if err != nil {
				return nil, err
			}
			n := int64(-1)
			if len(args) == 3 {
				if n, err = intArg(name, args[2]); err != nil {
					return nil, err
				}
			}
			return pyReplace(s, old, nw, n)
		})
	case "upper", "lower", "title", "capitalize", "isspace", "isdigit", "isalpha", "isalnum", "islower", "isupper":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) > 0 || kw != nil {
				return nil, errorf("str.%s() takes no arguments (%d given)", name, len(args))
			}
			return strNoArg(s, name), nil
		})
	case "find", "rfind", "count":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) != 1 || kw != nil {
				return nil, errorf("unsupported arguments to str.%s: only the substring is supported", name)
			}
			sub, err := strArg(name, args[0])
			if err != nil {
				return nil, err
			}
			switch name {
			case "count":
				return int64(strings.Count(s, sub)), nil
			case "find":
				i := strings.Index(s, sub)
				if i < 0 {
					return int64(-1), nil
				}
				return int64(utf8.RuneCountInString(s[:i])), nil
			}
			i := strings.LastIndex(s, sub)
			if i < 0 {
				return int64(-1), nil
			}
			return int64(utf8.RuneCountInString(s[:i])), nil
		})
	case "join":
		return m(func(args []Value, kw *Dict) (Value, error) {
			if len(args) != 1 || kw != nil {
				return nil, errorf("str.join() takes exactly one argument (%d given)", len(args))
			}
			items, err := iterate(args[0])
			if err != nil {
				return nil, errorf("can only join an iterable")
			}
			parts := make([]string, len(items))
			total := 0
			for i, it := range items {
				p, ok := strOf(it)
				if !ok {
					return nil, errorf("sequence item %d: expected str instance, %s found", i, typeName(it))
				}
				parts[i] = p
				if total += len(p) + len(s); total > maxString {
					return nil, kindErrorf(Limit, "string longer than %d bytes", maxString)
				}
			}
			return strings.Join(parts, s), nil
		})
	}
	return nil, false
}

func strNoArg(s, name string) Value {
	switch name {
	case "upper":
		return pyUpper(s)
	case "lower":
		return pyLower(s)
	case "title":
		return pyTitle(s)
	case "capitalize":
		return pyCapitalize(s)
	}
	if s == "" {
		return false
	}
	pred := map[string]func(rune) bool{
		"isspace": pyIsSpace,
		"isdigit": unicode.IsDigit,
		"isalpha": unicode.IsLetter,
		"isalnum": func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) },
	}[name]
	if pred != nil {
		for _, r := range s {
			if !pred(r) {
				return false
			}
		}
		return true
	}
	// islower / isupper: at least one cased character, none of the other case.
	cased := false
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			if name == "islower" {
				return false
			}
			cased = true
		} else if unicode.IsLower(r) {
			if name == "isupper" {
				return false
			}
			cased = true
		}
	}
	return cased
}

func pyReplace(s, old, nw string, n int64) (Value, error) {
	if n < 0 {
		n = -1
	}
	count := int64(strings.Count(s, old))
	if n >= 0 && n < count {
		count = n
	}
	if int64(len(s))+count*int64(len(nw)-len(old)) > maxRepeat {
		return nil, kindErrorf(Limit, "replaced string longer than %d bytes", maxRepeat)
	}
	return strings.Replace(s, old, nw, int(n)), nil
}

// splitWhitespace is str.split() / str.rsplit() without a separator.
func splitWhitespace(s string, max int, fromRight bool) []string {
	if !fromRight {
		var out []string
		rest := strings.TrimLeftFunc(s, pyIsSpace)
		for rest != "" {
			if max >= 0 && len(out) == max {
				out = append(out, rest)
				break
			}
			i := strings.IndexFunc(rest, pyIsSpace)
			if i < 0 {
				out = append(out, rest)
				break
			}
			out = append(out, rest[:i])
			rest = strings.TrimLeftFunc(rest[i:], pyIsSpace)
		}
		if out == nil {
			out = []string{}
		}
		return out
	}
	var rev []string
	rest := strings.TrimRightFunc(s, pyIsSpace)
	for rest != "" {
		if max >= 0 && len(rev) == max {
			rev = append(rev, rest)
			break
		}
		i := strings.LastIndexFunc(rest, pyIsSpace)
		if i < 0 {
			rev = append(rev, rest)
			break
		}
		_, n := utf8.DecodeRuneInString(rest[i:])
		rev = append(rev, rest[i+n:])
		rest = strings.TrimRightFunc(rest[:i], pyIsSpace)
	}
	out := make([]string, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}

// splitSep is str.split(sep, max) / str.rsplit(sep, max).
func splitSep(s, sep string, max int, fromRight bool) []string {
	if max < 0 {
		return strings.Split(s, sep)
	}
	if !fromRight {
		return strings.SplitN(s, sep, max+1)
	}
	var rev []string
	rest := s
	for len(rev) < max {
		i := strings.LastIndex(rest, sep)
		if i < 0 {
			break
		}
		rev = append(rev, rest[i+len(sep):])
		rest = rest[:i]
	}
	rev = append(rev, rest)
	out := make([]string, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}
