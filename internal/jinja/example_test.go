package jinja_test

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

func ExampleParse() {
	t, err := jinja.Parse("example.jinja", "{% for x in items %}{{ x }}{% if not loop.last %}, {% endif %}{% endfor %} | {{ d|tojson }} | {{ d }}")
	if err != nil {
		panic(err)
	}
	vars, err := jinja.DecodeJSON([]byte(`{"items": [1, 2.0, null, true, "é"], "d": {"b": 1, "a": [1.5, null]}}`))
	if err != nil {
		panic(err)
	}
	out, err := t.Render(vars.(*jinja.Dict), jinja.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// 1, 2.0, None, True, é | {"b": 1, "a": [1.5, null]} | {'b': 1, 'a': [1.5, None]}
}

func ExampleParse_unsupported() {
	_, err := jinja.Parse("t.jinja", "line 1\n{{ text|wordwrap(40) }}")
	fmt.Println(err)
	// Output:
	// t.jinja:2: unsupported filter "wordwrap"
}
