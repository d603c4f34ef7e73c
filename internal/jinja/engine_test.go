package jinja

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"},
		{0.00001, "1e-05"}, {1.5e-7, "1.5e-07"}, {123456789012345680, "1.2345678901234568e+17"},
		{math.Copysign(0, -1), "-0.0"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
		{1e100, "1e+100"}, {2.5, "2.5"}, {1.0 / 3, "0.3333333333333333"},
	} {
		if got := FormatFloat(tc.f); got != tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestDictKeys(t *testing.T) {
	d := NewDict()
	d.Set("b", int64(1))
	d.Set(int64(1), "one")
	d.Set(1.0, "float one")
	d.Set(true, "true")
	d.Set("a", int64(2))
	d.Set("b", int64(3))
	if got := Repr(d); got != "{'b': 3, 1: 'true', 'a': 2}" {
		t.Errorf("got %s", got)
	}
	if d.Set(&List{}, 1) {
		t.Error("a list key was accepted")
	}
}

func render(t *testing.T, src string, lim Limits) (string, error) {
	t.Helper()
	tmpl, err := Parse("t.jinja", src)
	if err != nil {
		return "", err
	}
	return tmpl.Render(nil, Options{Limits: lim})
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		lim       Limits
		want      string
	}{
		{"output", "{% for i in range(100) %}xxxxxxxxxx{% endfor %}", Limits{MaxOutput: 500}, "output larger than 500 bytes"},
		{"iterations", "{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", Limits{MaxIterations: 1000}, "more than 1000 loop iterations"},
		{"macro depth", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", Limits{}, "macro calls nested deeper than 100"},
		{"macro fan-out", "{% macro f(n) %}{% if n < 60 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}", Limits{}, "macro calls"},
		{"work", "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(100) %}{% set ns.s = ns.s[:1000000] ~ 'y' %}{% endfor %}", Limits{MaxWork: 10 << 20}, "bytes of values built"},
		{"repeat", "{{ 'ab' * 9223372036854775807 }}", Limits{}, "repetition longer than"},
		{"string", "{% set ns = namespace(s='x' * 1000) %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", Limits{}, "string longer than"},
		{"range", "{{ range(100001)|length }}", Limits{}, "Range too big"},
		{"nesting", strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), Limits{}, "nested deeper than 200"},
		{"block nesting", strings.Repeat("{% if 1 %}", 300) + strings.Repeat("{% endif %}", 300), Limits{}, "nested deeper than 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if !strings.HasPrefix(src, "{") {
				src = "{{ " + src + " }}"
			}
			_, err := render(t, src, tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Name != "t.jinja" || e.Line != 1 {
				t.Errorf("error %#v is not placed at t.jinja:1", err)
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		src  string
		kind Kind
		line int
	}{
		{"\n{{ raise_exception('m') }}", Raised, 2},
		{"\n\n{{ x.y }}", UndefinedUse, 3},
		{"{{ [].append(1) }}", Security, 1},
		{"{{ 1 + 'a' }}", Type, 1},
		{"{% if %}", Syntax, 1},
		{"a\nb\n{{ x|nope }}", Syntax, 3},
		{"{% macro m() %}\n\n{{ raise_exception('deep') }}{% endmacro %}\n{{ m() }}", Raised, 3},
	} {
		_, err := render(t, tc.src, Limits{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != tc.kind || e.Line != tc.line {
			t.Errorf("%q: error %#v; want kind %s at line %d", tc.src, err, tc.kind, tc.line)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	tmpl, err := Parse("t.jinja", "{% set ns = namespace(n=0) %}{% for i in range(50) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			out, err := tmpl.Render(nil, Options{})
			if err != nil {
				out = err.Error()
			}
			done <- out
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != "1225" {
			t.Errorf("got %q", got)
		}
	}
}
