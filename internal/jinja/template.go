package jinja

import (
	"strings"
	"time"
)

// Template is a parsed template; it is read-only and safe for concurrent
// Render calls.
type Template struct {
	name string
	body []node
}

// Limits bound a render so a bad template cannot wedge the caller.
type Limits struct {
	MaxOutput     int // bytes of output (default 16 MiB)
	MaxDepth      int // nested macro calls (default 100)
	MaxIterations int // loop iterations and macro calls in total (default 1,000,000)
	MaxWork       int // bytes of strings (and 8 per list item) built in total (default 1 GiB)
}

// Options configure one render.
type Options struct {
	// Now is the time strftime_now formats (its location included); the zero
	// time means time.Now().
	Now    time.Time
	Limits Limits
}

// Parse parses template source src; name is used in error messages.
// Unknown or unsupported tags, filters and tests are errors here.
func Parse(name, src string) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Name: name, Kind: Syntax, Msg: sprintf("internal error: %v", r)}
		}
	}()
	src = normalise(src)
	toks, lines, err := lex(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, toks: toks, lines: lines}
	body, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Template{name: name, body: body}, nil
}

// Name is the name the template was parsed with.
func (t *Template) Name() string { return t.name }

// Render renders the template with the variables vars (the keyword
// arguments of jinja2's Template.render; may be nil).
func (t *Template) Render(vars *Dict, o Options) (out string, err error) {
	e := &evaluator{name: t.name, opts: o}
	if e.opts.Limits.MaxOutput <= 0 {
		e.opts.Limits.MaxOutput = 16 << 20
	}
	if e.opts.Limits.MaxDepth <= 0 {
		e.opts.Limits.MaxDepth = 100
	}
	if e.opts.Limits.MaxWork <= 0 {
		e.opts.Limits.MaxWork = 1 << 30
	}
	if e.opts.Limits.MaxIterations <= 0 {
		e.opts.Limits.MaxIterations = 1_000_000
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = "", &Error{Name: t.name, Kind: Type, Msg: sprintf("internal error: %v", r)}
		}
	}()
	root := &frame{vars: map[string]Value{}}
	if vars != nil {
		for i, k := range vars.keys {
			if s, ok := k.(string); ok {
				root.vars[s] = vars.vals[i]
			}
		}
	}
	var b strings.Builder
	if _, err := e.execBody(t.body, root, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}
