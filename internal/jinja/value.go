package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value is a template value. Its dynamic type is one of:
//
//	nil          Python None
//	bool         True / False
//	int64        int (overflow is an error, not a big integer)
//	float64      float
//	string       str (UTF-8; lengths, indices and slices count code points)
//	Markup       markupsafe.Markup, made by the safe filter
//	*List        list
//	*Tuple       tuple (dict.items() pairs, (a, b) literals)
//	*Dict        dict, insertion-ordered
//	Undefined    jinja2.Undefined
//	*Namespace   the namespace() object
//	*Macro       a {% macro %}
//	*Func        a global function or a bound method
//	*Loop        the loop variable of a for loop
//	*Iter        an iterator (generator), single-pass
//	*View        a dict view (items(), keys(), values())
type Value = any

// Markup is a string marked safe (markupsafe.Markup). Without autoescaping
// it prints as itself; Markup + str escapes the right operand as Python does.
type Markup string

// List is a Python list.
type List struct{ Items []Value }

// Tuple is a Python tuple.
type Tuple struct{ Items []Value }

// NewList returns a list of the items (not copied).
func NewList(items ...Value) *List { return &List{Items: items} }

// Undefined is jinja2.Undefined: it prints as "", is false, iterates as empty
// and has length 0; any other use (attribute, item, arithmetic, call,
// ordering) is an UndefinedError carrying Hint.
type Undefined struct {
	// Hint is the message of the error that using the value raises,
	// e.g. "'x' is undefined" or "'dict object' has no attribute 'y'".
	Hint string
	// Unsafe marks an attribute refused by the sandbox: using it is a
	// SecurityError with Hint as message.
	Unsafe bool
}

// Namespace is the object namespace() returns; its attributes are set with
// {% set ns.attr = value %}.
type Namespace struct{ Attrs *Dict }

// Func is a callable: a global function or a method bound to its receiver.
type Func struct {
	Name string
	Fn   func(e *evaluator, args []Value, kwargs *Dict) (Value, error)
}

func undefinedName(name string) Undefined {
	return Undefined{Hint: "'" + name + "' is undefined"}
}

func undefinedAttr(obj Value, name string) Undefined {
	return Undefined{Hint: "'" + typeName(obj) + " object' has no attribute '" + name + "'"}
}

func undefinedItem(obj Value, key Value) Undefined {
	if _, ok := key.(string); ok {
		return Undefined{Hint: "'" + typeName(obj) + " object' has no attribute " + Repr(key)}
	}
	return Undefined{Hint: typeName(obj) + " object has no element " + Repr(key)}
}

// typeName is Python's type(v).__name__.
func typeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Markup:
		return "Markup"
	case *List:
		return "list"
	case *Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case Undefined:
		return "Undefined"
	case *Namespace:
		return "Namespace"
	case *Macro:
		return "Macro"
	case *Func:
		return "builtin_function_or_method"
	case *Loop:
		return "LoopContext"
	case *Iter:
		return v.(*Iter).Kind
	case *View:
		return v.(*View).Kind
	}
	return "object"
}

// Truth is Python's bool(v).
func Truth(v Value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case Markup:
		return x != ""
	case *List:
		return len(x.Items) > 0
	case *Tuple:
		return len(x.Items) > 0
	case *Dict:
		return x.Len() > 0
	case *View:
		return len(x.Items) > 0
	case Undefined:
		return false
	}
	return true
}

// Str is Python's str(v); Undefined is "".
func Str(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case Markup:
		return string(x)
	case Undefined:
		return ""
	}
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// Repr is Python's repr(v).
func Repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// writeRepr writes repr(v); it stops early once b holds more than
// maxString bytes (the caller's size check then fails).
func writeRepr(b *strings.Builder, v Value) {
	if b.Len() > maxString {
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(FormatFloat(x))
	case string:
		writeStrRepr(b, x)
	case Markup:
		b.WriteString("Markup(")
		writeStrRepr(b, string(x))
		b.WriteString(")")
	case *List:
		b.WriteByte('[')
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it)
		}
		b.WriteByte(']')
	case *Tuple:
		b.WriteByte('(')
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it)
		}
		if len(x.Items) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *Dict:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, k)
			b.WriteString(": ")
			writeRepr(b, x.vals[i])
		}
		b.WriteByte('}')
	case Undefined:
		b.WriteString("Undefined")
	case *Namespace:
		b.WriteString("<Namespace ")
		writeRepr(b, x.Attrs)
		b.WriteString(">")
	case *Macro:
		b.WriteString("<Macro '" + x.node.Name + "'>")
	case *Func:
		b.WriteString("<built-in function " + x.Name + ">")
	case *Loop:
		b.WriteString("<LoopContext " + strconv.Itoa(x.index0+1) + "/" + strconv.Itoa(len(x.items)) + ">")
	case *Iter:
		// Python prints the object's address here; no template relies on it.
		b.WriteString("<" + x.Kind + " object>")
	case *View:
		b.WriteString(x.Kind + "(")
		writeRepr(b, &List{Items: x.Items})
		b.WriteString(")")
	default:
		b.WriteString("<object>")
	}
}

// FormatFloat is Python's repr(float): the shortest digits that round-trip,
// in fixed notation when the decimal exponent is in [-4, 16), else in
// scientific notation with at least two exponent digits; "inf", "nan".
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		mant := e[:i]
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// writeStrRepr writes Python's repr of a str: single quotes unless the
// text holds a ' and no ", backslash escapes for \\ \n \r \t and the
// quote, \xhh / \uhhhh / \Uhhhhhhhh for characters that are not printable.
func writeStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + hex2(int(r)))
		case r < 0x7f:
			b.WriteRune(r)
		case pyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x` + hex2(int(r)))
		case r <= 0xffff:
			b.WriteString(`\u` + hexN(int(r), 4))
		default:
			b.WriteString(`\U` + hexN(int(r), 8))
		}
	}
	b.WriteByte(q)
}

// pyPrintable approximates Python's str.isprintable for one non-ASCII
// character: letters, marks, numbers, punctuation and symbols; no
// separators other than the ASCII space, no format or private-use
// characters. (Go's Unicode tables may be a version apart from Python's.)
func pyPrintable(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r)
}

func hex2(n int) string { return hexN(n, 2) }

func hexN(n, w int) string {
	s := strconv.FormatInt(int64(n), 16)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

// pyIsSpace is Python's str.isspace for one character (the set \s matches
// in Python's re): Unicode White_Space plus the separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip removes leading (left) and trailing (right) characters: Python
// whitespace when chars is nil, else any character of *chars.
func pyStrip(s string, chars *string, left, right bool) string {
	in := func(r rune) bool { return pyIsSpace(r) }
	if chars != nil {
		set := *chars
		in = func(r rune) bool { return strings.ContainsRune(set, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, in)
	}
	if right {
		s = strings.TrimRightFunc(s, in)
	}
	return s
}
