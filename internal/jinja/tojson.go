package jinja

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// fTojson is transformers' tojson filter: json.dumps(x, ensure_ascii=False,
// indent=None, separators=None, sort_keys=False). Keys keep their order,
// non-ASCII text is written as is, floats as Python's repr (NaN, Infinity).
func fTojson(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("tojson", []string{"ensure_ascii", "indent", "separators", "sort_keys"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	j := jsonWriter{}
	j.ascii = vals[0] != nil && Truth(vals[0])
	switch ind := vals[1].(type) {
	case nil:
	case int64:
		s := strings.Repeat(" ", int(max(0, min(ind, 64))))
		j.indent = &s
	case string:
		j.indent = &ind
	default:
		return nil, errorf("unsupported tojson indent %s", Repr(vals[1]))
	}
	j.item, j.key = ", ", ": "
	if j.indent != nil {
		j.item = ","
	}
	if vals[2] != nil {
		seps, err := iterate(vals[2])
		if err != nil || len(seps) != 2 {
			return nil, errorf("separators must be a pair of strings")
		}
		a, ok1 := strOf(seps[0])
		b, ok2 := strOf(seps[1])
		if !ok1 || !ok2 {
			return nil, errorf("separators must be a pair of strings")
		}
		j.item, j.key = a, b
	}
	j.sort = Truth(vals[3])
	if err := j.value(v, 0); err != nil {
		return nil, err
	}
	return j.b.String(), nil
}

type jsonWriter struct {
	b         strings.Builder
	ascii     bool
	indent    *string
	item, key string
	sort      bool
}

func (j *jsonWriter) newline(depth int) {
	if j.indent == nil {
		return
	}
	j.b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		j.b.WriteString(*j.indent)
	}
}

const maxJSONDepth = 500

func (j *jsonWriter) value(v Value, depth int) error {
	if j.b.Len() > maxString {
		return kindErrorf(Limit, "tojson: output longer than %d bytes", maxString)
	}
	if depth > maxJSONDepth {
		return kindErrorf(Limit, "tojson: nesting deeper than %d", maxJSONDepth)
	}
	switch x := v.(type) {
	case nil:
		j.b.WriteString("null")
	case bool:
		if x {
			j.b.WriteString("true")
		} else {
			j.b.WriteString("false")
		}
	case int64:
		j.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		j.b.WriteString(jsonFloat(x))
	case string:
		j.str(x)
	case Markup:
		j.str(string(x))
	case *List, *Tuple:
		items, _ := seqItems(x)
		if len(items) == 0 {
			j.b.WriteString("[]")
			return nil
		}
		j.b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				j.b.WriteString(j.item)
			}
			j.newline(depth + 1)
			if err := j.value(it, depth+1); err != nil {
				return err
			}
		}
		j.newline(depth)
		j.b.WriteByte(']')
	case *Dict:
		if x.Len() == 0 {
			j.b.WriteString("{}")
			return nil
		}
		type kv struct {
			k string
			v Value
		}
		pairs := make([]kv, 0, x.Len())
		for i, k := range x.keys {
			var ks string
			switch kk := k.(type) {
			case string:
				ks = kk
			case Markup:
				ks = string(kk)
			case float64:
				ks = jsonFloat(kk)
			case int64:
				ks = strconv.FormatInt(kk, 10)
			case bool:
				ks = "false"
				if kk {
					ks = "true"
				}
			case nil:
				ks = "null"
			default:
				return errorf("keys must be str, int, float, bool or None, not %s", typeName(k))
			}
			pairs = append(pairs, kv{ks, x.vals[i]})
		}
		if j.sort {
			for _, k := range x.keys {
				if _, ok := strOf(k); !ok {
					return errorf("unsupported tojson sort_keys with non-string keys")
				}
			}
			sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].k < pairs[b].k })
		}
		j.b.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				j.b.WriteString(j.item)
			}
			j.newline(depth + 1)
			j.str(p.k)
			j.b.WriteString(j.key)
			if err := j.value(p.v, depth+1); err != nil {
				return err
			}
		}
		j.newline(depth)
		j.b.WriteByte('}')
	default:
		if u, ok := v.(Undefined); ok && u.Unsafe {
			return undefinedError(u)
		}
		return errorf("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

func jsonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return FormatFloat(f)
}

// str writes a JSON string as Python's json module does: \" \\ \n \r \t
// \b \f escaped, other control characters as \u00XX; with ensure_ascii,
// non-ASCII as \uXXXX (surrogate pairs above U+FFFF).
func (j *jsonWriter) str(s string) {
	b := &j.b
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				b.WriteString(`\u` + hexN(int(r), 4))
			case j.ascii && r > 0x7e:
				if r > 0xffff {
					r -= 0x10000
					b.WriteString(`\u` + hexN(int(0xd800+(r>>10)), 4) + `\u` + hexN(int(0xdc00+(r&0x3ff)), 4))
				} else {
					b.WriteString(`\u` + hexN(int(r), 4))
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
