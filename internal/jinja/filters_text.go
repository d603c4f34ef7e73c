package jinja

import "strings"

// pySplitlines is str.splitlines(): lines split at \n, \r\n, \r, \v, \f,
// \x1c, \x1d, \x1e, \x85, U+2028 and U+2029, the breaks dropped.
func pySplitlines(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			out = append(out, string(rs[start:i]))
			if rs[i] == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// fIndent is jinja2's indent(width=4, first=False, blank=False).
func fIndent(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_indent", []string{"width", "first", "blank"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	ind := "    "
	if given[0] {
		switch w := vals[0].(type) {
		case string:
			ind = w
		default:
			n, err := intArg("indent", w)
			if err != nil {
				return nil, err
			}
			ind = strings.Repeat(" ", int(max(0, min(n, 1024))))
		}
	}
	sv, err := softStr(v)
	if err != nil {
		return nil, err
	}
	s := Str(sv) + "\n"
	lines := pySplitlines(s)
	var rv string
	if Truth(vals[2]) {
		rv = strings.Join(lines, "\n"+ind)
	} else {
		rv = lines[0]
		if len(lines) > 1 {
			parts := make([]string, len(lines)-1)
			for i, l := range lines[1:] {
				if l != "" {
					l = ind + l
				}
				parts[i] = l
			}
			rv += "\n" + strings.Join(parts, "\n")
		}
	}
	if Truth(vals[1]) {
		rv = ind + rv
	}
	if _, m := sv.(Markup); m {
		return Markup(rv), nil
	}
	return rv, nil
}

// fCenter is jinja2's center(width=80): str.center.
func fCenter(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_center", []string{"width"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	width := int64(80)
	if given[0] {
		if width, err = intArg("center", vals[0]); err != nil {
			return nil, err
		}
	}
	s := Str(v)
	n := int64(len([]rune(s)))
	if width <= n {
		return s, nil
	}
	if width > maxString {
		return nil, kindErrorf(Limit, "string longer than %d bytes", maxString)
	}
	marg := width - n
	left := marg/2 + (marg & width & 1)
	return strings.Repeat(" ", int(left)) + s + strings.Repeat(" ", int(marg-left)), nil
}
