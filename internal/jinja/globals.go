package jinja

import (
	"fmt"
	"strings"
	"time"
)

// globals are the names every template sees: jinja2's range, transformers'
// dict, namespace, raise_exception and strftime_now. (jinja2's lipsum,
// cycler and joiner are not provided: they are Undefined.)
var globals map[string]Value

// maxRange is the sandbox's MAX_RANGE.
const maxRange = 100000

func init() {
	globals = map[string]Value{
		"range":           &Func{Name: "range", Fn: gRange},
		"dict":            &Func{Name: "dict", Fn: gDict},
		"namespace":       &Func{Name: "namespace", Fn: gNamespace},
		"raise_exception": &Func{Name: "raise_exception", Fn: gRaise},
		"strftime_now":    &Func{Name: "strftime_now", Fn: gStrftimeNow},
	}
}

func gRange(_ *evaluator, args []Value, kw *Dict) (Value, error) {
	if kw != nil {
		return nil, errorf("range() takes no keyword arguments")
	}
	if len(args) < 1 || len(args) > 3 {
		return nil, errorf("range expected at most 3 arguments, got %d", len(args))
	}
	var n [3]int64
	for i, a := range args {
		v, err := intArg("range", a)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	start, stop, step := int64(0), n[0], int64(1)
	if len(args) >= 2 {
		start, stop = n[0], n[1]
	}
	if len(args) == 3 {
		step = n[2]
		if step == 0 {
			return nil, errorf("range() arg 3 must not be zero")
		}
	}
	var count int64
	if step > 0 && stop > start {
		count = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		count = (start - stop - step - 1) / -step
	}
	if count > maxRange {
		return nil, kindErrorf(Type, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)
	}
	out := make([]Value, count)
	for i := range out {
		out[i] = start + int64(i)*step
	}
	return &List{Items: out}, nil
}

// dictOf is Python's dict(*args, **kwargs) for at most one positional
// argument (a dict or a sequence of pairs).
func dictOf(fname string, args []Value, kw *Dict) (*Dict, error) {
	d := NewDict()
	if len(args) > 1 {
		return nil, errorf("%s expected at most 1 argument, got %d", fname, len(args))
	}
	if len(args) == 1 {
		switch a := args[0].(type) {
		case *Dict:
			d = a.Copy()
		default:
			items, err := iterate(a)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				pair, err := iterate(it)
				if err != nil || len(pair) != 2 {
					return nil, errorf("dictionary update sequence element #%d has the wrong length", i)
				}
				if !d.Set(pair[0], pair[1]) {
					return nil, errorf("unhashable type: '%s'", typeName(pair[0]))
				}
			}
		}
	}
	if kw != nil {
		for i, k := range kw.keys {
			d.Set(k, kw.vals[i])
		}
	}
	return d, nil
}

func gDict(_ *evaluator, args []Value, kw *Dict) (Value, error) { return dictOf("dict", args, kw) }

func gNamespace(_ *evaluator, args []Value, kw *Dict) (Value, error) {
	d, err := dictOf("namespace", args, kw)
	if err != nil {
		return nil, err
	}
	for _, k := range d.keys {
		if s, ok := k.(string); ok && strings.HasPrefix(s, "_") {
			return nil, kindErrorf(Security, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got %s. Please rename the attribute.", Repr(s))
		}
	}
	return &Namespace{Attrs: d}, nil
}

func gRaise(_ *evaluator, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("raise_exception", []string{"message"}, 1, args, kw)
	if err != nil {
		return nil, err
	}
	return nil, kindErrorf(Raised, "%s", Str(vals[0]))
}

func gStrftimeNow(e *evaluator, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("strftime_now", []string{"format"}, 1, args, kw)
	if err != nil {
		return nil, err
	}
	f, ok := strOf(vals[0])
	if !ok {
		return nil, errorf("strftime() argument 1 must be str, not %s", typeName(vals[0]))
	}
	now := e.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	return strftime(now, f)
}

// strftime formats t as C's strftime in the C locale (what Python's
// datetime.strftime calls), for the common directives.
func strftime(t time.Time, f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 >= len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		pad := true
		if f[i] == '-' && i+1 < len(f) {
			pad = false
			i++
		}
		num := func(v, w int) {
			if pad {
				fmt.Fprintf(&b, "%0*d", w, v)
			} else {
				fmt.Fprintf(&b, "%d", v)
			}
		}
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			num(t.Year()%100, 2)
		case 'm':
			num(int(t.Month()), 2)
		case 'd':
			num(t.Day(), 2)
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			num(t.Hour(), 2)
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			num(h, 2)
		case 'M':
			num(t.Minute(), 2)
		case 'S':
			num(t.Second(), 2)
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			num(t.YearDay(), 3)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			fmt.Fprintf(&b, "%d", wd)
		case 'F':
			fmt.Fprintf(&b, "%d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
		case 'T':
			fmt.Fprintf(&b, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		case 'D':
			fmt.Fprintf(&b, "%02d/%02d/%02d", int(t.Month()), t.Day(), t.Year()%100)
		case 'z', 'Z':
			// datetime.now() is naive: no offset, no zone name.
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			return "", errorf("unsupported strftime directive %%%c", f[i])
		}
	}
	return b.String(), nil
}
