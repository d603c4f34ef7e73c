// Package jinja is a Jinja engine for the subset of the language chat
// templates use, with the semantics of jinja2 3.1.6 in the environment
// Hugging Face transformers renders chat templates in
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// keep_trailing_newline off, the loopcontrols extension, transformers'
// {% generation %} tag, tojson filter and raise_exception, strftime_now,
// dict and namespace globals). It knows nothing of chat.
//
// Values are Python's (see Value): they print as str() does (None, True,
// 1.0, 1e+16, ['a', None], {'k': 1}), dicts keep insertion order, strings
// index and slice by code point, and operators, comparisons, truth, str
// methods and filters follow Python and jinja2. Undefined behaves as
// jinja2.Undefined. Every construct is tested against jinja2 itself
// (testdata/chat/jinja.jsonl, made by tools/reference/jinja_goldens.py).
//
// # Supported
//
// Whitespace control: {%- -%} {{- -}} {#- -#}, {%+ and +%}, trim_blocks and
// lstrip_blocks, \r\n and \r read as \n, one trailing newline dropped.
//
// Statements: if/elif/else; for (else branch, tuple targets, inline if
// filter; loop.index, index0, revindex, revindex0, first, last, length,
// previtem, nextitem, cycle, depth); set (names, tuples, ns.attr, block set
// with filters); macro (positional and keyword arguments, defaults that may
// name earlier parameters; scope as jinja2: a macro sees its defining scope
// at call time); break, continue; generation (renders its body); raw;
// comments.
//
// Expressions: string literals with Python escapes (adjacent literals
// concatenate), integers (with _, 0x, 0o, 0b), floats, true/false/none in
// both cases, lists, tuples, dicts; attribute and subscript access
// (attribute first then item for a.b, item first then attribute for a[b]);
// slices with negative bounds and steps; + - * / // % ** (left-associative,
// as jinja2), unary - +, ~, comparisons (chained), in / not in, and / or
// (returning an operand), not, a if c else b (no else: Undefined); calls;
// filters; tests.
//
// Filters: tojson (ensure_ascii, indent, separators, sort_keys), length,
// count, trim, string, default/d, items, list, first, last, join, safe,
// upper, lower, capitalize, title, replace, reverse, map (attribute= or a
// filter name), select, reject, selectattr, rejectattr, int, float, abs,
// round.
//
// Tests: defined, undefined, none, string, number, integer, float, boolean,
// true, false, mapping, iterable, sequence, callable, lower, upper, even,
// odd, divisibleby, eq/equalto/==, ne/!=, lt/lessthan/<, le/<=,
// gt/greaterthan/>, ge/>=, in, sameas.
//
// Methods: str startswith/endswith (str or tuple), strip/lstrip/rstrip
// (optional chars), split/rsplit (optional sep, maxsplit), replace, upper,
// lower, title, capitalize (Python's full case mappings), find, rfind,
// count, join, isspace, isdigit, isalpha, isalnum, islower, isupper; dict
// get, items, keys, values, copy; list index, count, copy. The mutating
// methods (append, pop, update, …) and names starting with "_" are refused
// as the sandbox refuses them (a SecurityError when used).
//
// Globals: range (at most 100000 items, as the sandbox), dict, namespace
// (no "_" attributes, as transformers), raise_exception (an Error of Kind
// Raised carrying the message), strftime_now (Options.Now; C-locale
// directives).
//
// # Refused
//
// Anything else is an error, at parse time when the construct is syntax:
// unknown or unsupported tags (extends, include, import, from, block, call,
// filter, with, autoescape, do, trans), filters and tests not listed
// above, recursive loops, *args / **kwargs in calls, \N{…} escapes;
// at render time: str.format and % formatting, unknown methods (Undefined,
// an error when called), integers beyond int64 (an error where Python
// would grow a big integer). Errors name the template, the line and the
// construct: `t.jinja:2: unsupported filter "wordwrap"`.
//
// Known differences that do not reach these templates' output: dict views,
// range objects and the iterators of reverse, map and select are plain
// lists (Python prints them differently, e.g. "dict_items([…])"); upper
// and lower use Go's Unicode tables (version 15) where Python 3.11 has 14.
//
// # Limits
//
// A render stops with an error of Kind Limit past Limits: output size
// (16 MiB), loop iterations and macro calls (1,000,000), macro nesting
// (100), bytes of values built (1 GiB), single strings (32 MiB);
// parsing bounds the nesting of expressions and blocks (200). Parse and
// Render never panic (fuzzed: FuzzParse, FuzzRender).
package jinja
