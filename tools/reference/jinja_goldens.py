#!/usr/bin/env python3
"""Engine-level Jinja goldens: testdata/chat/jinja.jsonl.

Each case is a small template and its variables, rendered with the real jinja2 3.1.6 in the exact
environment transformers 5.24.0 renders chat templates in: the template is compiled by
`transformers.utils.chat_template_utils._compile_jinja_template` (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, the generation tag, transformers' tojson, raise_exception,
strftime_now, dict, namespace). One JSON object per line:

    {"name", "template", "vars", "output"}            when it renders
    {"name", "template", "vars", "error", "error_type"} when parsing or rendering raises

"vars" is JSON (objects keep their key order, integers stay integers), decoded with json.loads.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/jinja_goldens.py

Deterministic: a rerun writes identical bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "chat" / "jinja.jsonl"

import jinja2  # noqa: E402
import transformers  # noqa: E402
from transformers.utils.chat_template_utils import _compile_jinja_template  # noqa: E402

PINNED = {"transformers": "5.24.0", "jinja2": "3.1.6"}

CASES: list[tuple[str, str, dict]] = []


def case(name: str, template: str, **vars):
    CASES.append((name, template, vars))


# --- whitespace control: trim_blocks, lstrip_blocks, -, + -------------------------------------
case("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter")
case("ws_lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n")
case("ws_lstrip_not_vars", "  {{ 1 }}\n  {% if true %}a{% endif %}")
case("ws_lstrip_mid_line", "a  {% if true %}b{% endif %}  c")
case("ws_minus_both", "a   {%- if true -%}   b   {%- endif -%}   c")
case("ws_minus_newlines", "a\n\n  {{- 'b' -}}\n\n  c")
case("ws_plus_lstrip", "  {%+ if true %}x{% endif %}")
case("ws_plus_trim", "{% if true +%}\nx{% endif %}")
case("ws_comment", "a\n  {# comment #}\nb\n{#- c -#}  \n d")
case("ws_comment_plus", "a\n{# c +#}\nb")
case("ws_trailing_newline", "line\n")
case("ws_two_trailing_newlines", "line\n\n")
case("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\rd")
case("ws_tabs", "\t{% if true %}\n\tx\n\t{% endif %}\n")
case("ws_var_trailing_newline", "{{ 1 }}\n{{ 2 }}\n")
case("ws_raw", "  {% raw %}\n{{ x }} {% if %}\n  {% endraw %}\nafter")
case("ws_raw_minus", "a {%- raw -%}  {{ y }}  {%- endraw -%} b")
case("ws_unicode_space", "a\u3000{%- if true %}b{% endif %}")
case("ws_block_after_trim", "{% for i in [1, 2] %}\n    {% if i %}\n    {{ i }}\n    {% endif %}\n{% endfor %}")
case("ws_brace_in_expr", "{{ {'a': {'b': 1}} }}")
case("ws_set_lines", "{% set x = 1 %}\n{% set y = 2 %}\n{{ x + y }}\n")

# --- printing: Python str() ---------------------------------------------------------------------
case("str_none_bool", "{{ none }} {{ None }} {{ true }} {{ False }}")
case("str_ints", "{{ 0 }} {{ -5 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}")
case("str_floats", "{{ 1.0 }} {{ 0.1 }} {{ 1e16 }} {{ 1e15 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ 123456789.123 }} {{ 2.5e300 * 1e10 }} {{ -0.0 }}")
case("str_float_math", "{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 10 / 2 }} {{ 2 ** 0.5 }} {{ 1e22 }} {{ 1e-7 }}")
case("str_list", "{{ [1, 'a', none, 1.5, true, [2], {'k': 'v'}] }}")
case("str_tuple", "{{ (1,) }} {{ (1, 'b') }} {{ () }}")
case("str_dict", "{{ {'b': 1, 'a': [1, 2], 3: none} }}")
case("str_repr_quotes", """{{ ["it's", 'say "hi"', 'both \\' and "', 'back\\\\slash'] }}""")
case("str_repr_escapes", "{{ ['a\\nb', 'tab\\t', 'cr\\r', '\\x01', '\\x7f', '\\x85', '\\xa0', 'é', '中文', '\\u200b', '\\U0001F600'] }}")
case("str_vars", "{{ d }} | {{ l }} | {{ s }} | {{ f }} | {{ i }}", d={"z": 1, "a": {"n": None, "t": True}}, l=[1, 2.0, "x"], s="text", f=3.0, i=7)
case("str_concat_tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ [1] }}")
case("str_string_escapes", "{{ 'a\\tb\\\\c\\'d\\\"e\\x41\\u00e9\\101\\q' }}")
case("str_adjacent_literals", "{{ 'a' 'b' \"c\" }}")
case("str_unicode_var", "{{ s }}|{{ s|length }}|{{ s[1] }}|{{ s[::-1] }}", s="héllo wörld 😀")

# --- tojson (transformers' own) -------------------------------------------------------------
case("tojson_nested_order", "{{ d|tojson }}", d={"z": 1, "a": {"y": [1, 2.5, None, True], "b": "x"}, "m": []})
case("tojson_unicode", "{{ s|tojson }}", s="é中😀\u2028\x00\x1f\x7f\"\\/\n\r\t\b\f")
case("tojson_indent", "{{ d|tojson(indent=2) }}", d={"a": [1, {"b": {}}], "c": []})
case("tojson_indent_str", "{{ d|tojson(indent='\\t') }}", d={"a": [1]})
case("tojson_separators", "{{ d|tojson(separators=(',', ':')) }}", d={"a": [1, 2], "b": "c"})
case("tojson_sort_keys", "{{ d|tojson(sort_keys=true) }}", d={"b": 1, "a": {"d": 1, "c": 2}})
case("tojson_ensure_ascii", "{{ s|tojson(ensure_ascii=true) }}", s="é😀")
case("tojson_floats", "{{ [1.0, 0.1, 1e16, 1e-5, 3, -0.0]|tojson }}")
case("tojson_literal_dict", "{{ {'name': 'f', 'n': 1, 'ok': false, 'v': none}|tojson }}")
case("tojson_tuple", "{{ (1, 'a')|tojson }}")
case("tojson_int_keys", "{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'}|tojson }}")
case("tojson_undefined", "{{ x|tojson }}")

# --- str methods ------------------------------------------------------------------------------
case("split_default", "{{ '  a  b\\tc\\n d  '.split() }}")
case("split_sep", "{{ 'a,b,,c,'.split(',') }} {{ ''.split(',') }} {{ ''.split() }}")
case("split_maxsplit", "{{ 'a b c d'.split(' ', 2) }} {{ '  a b  c  '.split(none, 1) }} {{ 'a,b,c'.split(',', maxsplit=1) }}")
case("rsplit", "{{ 'a,b,c'.rsplit(',', 1) }} {{ '  a b  c  '.rsplit(none, 1) }} {{ 'a b'.rsplit() }}")
case("split_unicode_ws", "{{ 'a\\u3000b\\xa0c\\x1cd'.split() }}")
case("split_multichar", "{{ '</think>x</think>y'.split('</think>') }}")
case("split_empty_sep", "{{ 'abc'.split('') }}")
case("strip_family", "[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ 'xxhixx'.strip('x') }}][{{ '\\n\\nhi\\n'.lstrip('\\n') }}][{{ 'abcba'.strip('ab') }}]")
case("strip_unicode_ws", "[{{ '\\u3000\\xa0x\\x85\\u2028'.strip() }}]")
case("startswith_endswith", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ ''.startswith('') }}")
case("replace_method", "{{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'ab'.replace('', '-') }}")
case("case_methods", "{{ 'hELLO wORLD'.upper() }} {{ 'HeLLo'.lower() }} {{ 'hello world-x o\\'neil'.title() }} {{ 'hELLO wORLD'.capitalize() }}")
case("find_count", "{{ 'abcabc'.find('c') }} {{ 'abc'.find('z') }} {{ 'aXbXc'.count('X') }} {{ 'héllo'.find('l') }} {{ 'abcabc'.rfind('b') }}")
case("join_method", "{{ ', '.join(['a', 'b']) }} {{ ''.join('xyz') }}")
case("join_method_int", "{{ ', '.join([1, 2]) }}")
case("is_methods", "{{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ '  '.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ''.isdigit() }}")
case("str_unknown_attr", "[{{ 'abc'.nope }}]")
case("str_unknown_method_call", "{{ 'abc'.nope() }}")

# --- dict and list methods ---------------------------------------------------------------------
case("dict_methods", "{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {% for k in d.keys() %}{{ k }}{% endfor %} {% for v in d.values() %}{{ v }}{% endfor %}", d={"a": 1, "b": 2})
case("dict_attr_vs_key", "{{ d.items is defined }} {{ d['items'] }} {{ d.name }}", d={"items": "the key", "name": "n"})
case("dict_key_order", "{% for k in d %}{{ k }}{% endfor %}", d={"z": 1, "a": 2, "m": 3})
case("list_methods", "{{ [1, 2, 1].index(2) }} {{ [1, 2, 1].count(1) }}")
case("list_append_refused", "{% set l = [1] %}{{ l.append(2) }}")
case("dict_pop_refused", "{{ d.pop('a') }}", d={"a": 1})
case("list_append_attr_prints_empty", "[{{ [].append }}]")
case("dunder_refused", "[{{ 'a'.__class__ }}]")
case("dict_update_refused", "{% set d = {} %}{{ d.update({'a': 1}) }}")

# --- subscripts and slices ---------------------------------------------------------------------
case("index_negative", "{{ l[-1] }} {{ l[0] }} {{ 'abc'[-2] }}", l=[1, 2, 3])
case("index_out_of_range", "[{{ l[10] }}] [{{ l[-10] }}]", l=[1, 2, 3])
case("slices", "{{ l[1:] }} {{ l[:-1] }} {{ l[::2] }} {{ l[::-1] }} {{ l[-2:] }} {{ l[5:] }} {{ l[3:1:-1] }} {{ l[-100:100] }} {{ l[1:3:0] if false else '' }}", l=[0, 1, 2, 3, 4])
case("slice_string", "{{ s[1:4] }} {{ s[::-1] }} {{ s[-3:] }} {{ s[::3] }}", s="abcdefg")
case("slice_step_zero", "{{ [1, 2][::0] }}")
case("getattr_int", "{{ l.0 }} {{ l.1 }}", l=["a", "b"])
case("message_content", "{{ m.content }}|{{ m['role'] }}|{{ m.missing }}|{{ m.missing is defined }}", m={"role": "user", "content": "hi"})

# --- operators ---------------------------------------------------------------------------------
case("arith_int", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 3 - 5 }} {{ 2 * 3 }}")
case("arith_float", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 1.0 }} {{ 3 / 2 }} {{ true + 1 }} {{ -true }}")
case("arith_pow_left_assoc", "{{ 2 ** 3 ** 2 }}")
case("arith_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 2 * 3 // 4 }}")
case("str_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] + [2] }} {{ [0] * 3 }} {{ 'x' * 0 }}|")
case("add_type_error", "{{ 1 + 'a' }}")
case("div_zero", "{{ 1 / 0 }}")
case("compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ none == none }} {{ 'a' != 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}")
case("compare_type_error", "{{ 1 < 'a' }}")
case("in_ops", "{{ 'a' in 'cat' }} {{ 'x' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'v' in {'k': 'v'} }} {{ not 'a' in 'b' }}")
case("in_dict_message", "{{ 'text' in c }} {{ 'image' in c }} {{ 'type' in c }}", c={"type": "text", "text": "hi"})
case("and_or_operands", "{{ 0 or 'x' }} {{ 1 and 2 }} {{ '' and 'y' }} {{ none or none }} {{ [] or {} }} {{ 'a' or undefined_thing }}")
case("not_ops", "{{ not 0 }} {{ not 'a' }} {{ not none }} {{ not [] }} {{ not not 1 }}")
case("cond_expr", "{{ 'a' if true else 'b' }} {{ 'a' if 0 else 'b' }} [{{ 'a' if false }}] {{ 1 if false else 2 if true else 3 }}")
case("filter_binds_tighter", "{{ l|length - 1 }} {{ 'a' ~ ' b '|trim }} {{ -1|abs }}", l=[1, 2, 3])
case("filter_after_unary_minus", "{{ -l|length }}", l=[1, 2, 3])
case("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0, true] %}{{ 'T' if v else 'F' }}{% endfor %}")

# --- undefined ----------------------------------------------------------------------------------
case("undef_print", "[{{ x }}] [{{ x ~ 'a' }}] {{ x is defined }} {{ x is undefined }} {{ x|default('d') }} {{ x|length }}")
case("undef_iter", "{% for i in x %}{{ i }}{% else %}empty{% endfor %}")
case("undef_attr_error", "{{ x.y }}")
case("undef_attr_chain_error", "{{ d.y.z }}", d={})
case("undef_add_error", "{{ x + 1 }}")
case("undef_call_error", "{{ x() }}")
case("undef_compare", "{{ x == x }} {{ x == none }} {{ x != 1 }}")
case("undef_in", "{{ x in [1] }} {{ 1 in x }}")
case("undef_bool", "{{ 'y' if x else 'n' }} {{ not x }}")
case("undef_tests", "{{ x is string }} {{ x is mapping }} {{ x is iterable }} {{ x is sequence }} {{ x is none }} {{ x is callable }}")
case("undef_default_boolean", "{{ ''|default('d', true) }} {{ none|default('d') }} {{ none|default('d', true) }} {{ 0|default('d', boolean=true) }}")
case("undef_trim", "[{{ x|trim }}] [{{ x|string }}] [{{ x|upper }}]")
case("undef_lt_error", "{{ x < 1 }}")

# --- loops -------------------------------------------------------------------------------------
case("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}")
case("loop_prev_next", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.previtem is defined }}]{% endfor %}")
case("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}")
case("loop_filter", "{% for x in range(10) if x is odd %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}")
case("loop_else", "{% for x in [] %}x{% else %}none{% endfor %} {% for x in [1] if false %}x{% else %}filtered{% endfor %}")
case("loop_unpack", "{% for a, b in [[1, 2], (3, 4), 'xy'] %}{{ a }}{{ b }} {% endfor %}")
case("loop_unpack_error", "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}")
case("loop_dict_items", "{% for k, v in d|items %}{{ k }}:{{ v }} {% endfor %}", d={"b": 1, "a": [2]})
case("loop_nested", "{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{{ loop.index }}|{% endfor %}")
case("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}")
case("loop_over_string", "{% for c in 'hé😀' %}[{{ c }}]{% endfor %}")
case("loop_over_dict", "{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}")
case("loop_reverse_slice", "{% for m in msgs[::-1] %}{{ m }}{{ (msgs|length - 1) - loop.index0 }} {% endfor %}", msgs=["a", "b", "c"])
case("loop_not_iterable", "{% for i in 5 %}{% endfor %}")
case("loop_none_iterable", "{% for i in none %}{% endfor %}")
case("loop_var_after", "{% for i in [1, 2] %}{% endfor %}[{{ i }}]", i=7)
case("loop_outer_loop", "{% for i in [1, 2] %}{% set outer = loop %}{% for j in [1] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}")

# --- set and scoping ---------------------------------------------------------------------------
case("set_scope_loop", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}")
case("set_per_iteration", "{% for i in [1, 2] %}{% if i == 1 %}{% set y = 3 %}{% endif %}[{{ y }}]{% endfor %}")
case("set_if_no_scope", "{% if true %}{% set x = 1 %}{% endif %}{{ x }}")
case("set_shadow_var", "{{ x }}{% set x = 1 %}{{ x }}", x=5)
case("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = [3, 4] %}{{ c }}{{ d }}")
case("set_block", "{% set x %}a{{ 1 + 1 }}\nb{% endset %}[{{ x }}]{{ x|length }}")
case("set_block_filter", "{% set x | upper %}abc{% endset %}{{ x }}")
case("namespace", "{% set ns = namespace(a=1, b='x') %}{% for i in [1, 2, 3] %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}{{ ns.b }}")
case("namespace_dict_arg", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
case("namespace_print", "{{ namespace(a=1) }}")
case("namespace_underscore", "{% set ns = namespace(_a=1) %}")
case("namespace_missing_attr", "[{{ namespace(a=1).b }}]")
case("set_attr_non_namespace", "{% set d = {} %}{% set d.a = 1 %}")
case("loop_var_reassign", "{% for t in [{'function': {'name': 'f'}}, {'name': 'g'}] %}{% if t.function %}{% set t = t.function %}{% endif %}{{ t.name }}{% endfor %}")

# --- macros ------------------------------------------------------------------------------------
case("macro_basic", "{% macro m(a, b=2, c='x') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(a=4, c='y') }} [{{ m() }}]")
case("macro_returns_str", "{% macro m() %}  ab  {% endmacro %}[{{ m()|trim }}]{{ m().startswith('  a') }}{{ m() + '!' }}")
case("macro_sees_later_global", "{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}")
case("macro_namespace_mutation", "{% set ns = namespace(n=0) %}{% macro inc() %}{% set ns.n = ns.n + 1 %}{% endmacro %}{{ inc() }}{{ inc() }}{{ ns.n }}")
case("macro_too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}")
case("macro_unknown_kwarg", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}")
case("macro_recursion", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(4) }}")
case("macro_default_refers_param", "{% macro m(a, b=a) %}{{ a }}{{ b }}{% endmacro %}{{ m(3) }}")
case("macro_locals_not_leaking", "{% macro m() %}{% set y = 1 %}{% endmacro %}{{ m() }}[{{ y }}]")
case("macro_vars", "{% macro m(x) %}{{ x }}{{ add_vision_id }}{% endmacro %}{{ m('a') }}", add_vision_id=True)

# --- filters ----------------------------------------------------------------------------------
case("f_length_count", "{{ [1, 2]|length }} {{ 'abc'|count }} {{ {'a': 1}|length }} {{ 'héllo'|length }}")
case("f_trim", "[{{ '  a b  '|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '\\n\\t a \\u3000'|trim }}]")
case("f_string", "{{ 1|string }} {{ none|string }} {{ [1, 'a']|string }} {{ 1.0|string ~ 'x' }}")
case("f_items", "{{ d|items|list }}", d={"a": 1, "b": [2]})
case("f_items_error", "{{ 'abc'|items|list }}")
case("f_list", "{{ 'ab'|list }} {{ {'a': 1}|list }} {{ (1, 2)|list }}")
case("f_first_last", "{{ [3, 1]|first }} {{ [3, 1]|last }} {{ 'abc'|first }} {{ 'abc'|last }} [{{ []|first }}]")
case("f_join", "{{ [1, 2, 3]|join(', ') }} {{ ['a', 'b']|join }} {{ [{'n': 'x'}, {'n': 'y'}]|join('-', attribute='n') }}")
case("f_safe", "{{ '<a>'|safe }} {{ ('<a>'|safe) ~ '<b>' }}")
case("f_safe_plus", "{{ ('<a>'|safe) + '<b>' }}")
case("f_upper_lower", "{{ 'aBc'|upper }} {{ 'aBc'|lower }} {{ 'hello wORLD foo-bar (baz)'|title }} {{ 'hELLO World'|capitalize }}")
case("f_replace", "{{ 'a-b-c'|replace('-', '+') }} {{ 'aaa'|replace('a', 'b', 2) }}")
case("f_reverse", "{{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }}")
case("f_map", "{{ l|map(attribute='a')|list }} {{ ['a', 'b']|map('upper')|list }} {{ l|map(attribute='z', default='-')|list }}", l=[{"a": 1}, {"a": 2}])
case("f_select_reject", "{{ range(6)|select('odd')|list }} {{ range(6)|reject('even')|list }} {{ [0, 1, '', 'a']|select|list }} {{ [1, 2, 3]|select('equalto', 2)|list }} {{ [1, 5, 3]|select('gt', 2)|list }}")
case("f_selectattr", "{{ l|selectattr('t', 'equalto', 'x')|list }} {{ l|rejectattr('t')|list }} {{ l|selectattr('t')|map(attribute='v')|list }}", l=[{"t": "x", "v": 1}, {"t": "", "v": 2}, {"t": "y", "v": 3}])
case("f_int_float", "{{ 1.9|int }} {{ -1.9|int }} {{ '42'|int }} {{ ' 7 '|int }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ true|int }} {{ 2|float }} {{ '1.5'|float }} {{ 'x'|float }} {{ '1_0'|int }}")
case("f_abs_round", "{{ -3|abs }} {{ -2.5|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 5|round }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(0, 'floor') }} {{ 1.25|round(1) }}")
case("f_default_d", "{{ x|d('dd') }} {{ ''|d('e') }} {{ false|default(true) }}")
case("f_chain", "{{ '  Hello  '|trim|upper|replace('L', 'l')|length }}")
case("f_unknown", "{{ x|wordwrap }}")
case("f_tojson_safe_string", "{% for k, v in args|items %}{{ k }}={{ v|tojson|safe if v is mapping or (v is sequence and v is not string) else v|string }};{% endfor %}", args={"a": "s", "b": 1, "c": [1, "x"], "d": {"e": None}, "f": True, "g": 1.5})

# --- tests ------------------------------------------------------------------------------------
case("tests_types", "{% for v in [none, true, 1, 1.5, 'a', [1], {'a': 1}, (1,)] %}{{ v is none }}{{ v is boolean }}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }};{% endfor %}")
case("tests_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}")
case("tests_even_odd", "{{ 2 is even }} {{ 3 is odd }} {{ -1 is odd }} {{ 0 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}")
case("tests_eq", "{{ 1 is eq 1 }} {{ 'a' is equalto 'a' }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} {{ 1 is lt 2 }} {{ 1 is le 0 }}")
case("tests_in", "{{ 1 is in [1, 2] }} {{ 'a' is in 'cat' }} {{ 'z' is in {'z': 1} }}")
case("tests_callable", "{{ range is callable }} {{ 'a'.upper is callable }} {{ 1 is callable }} {{ namespace is callable }}")
case("tests_not", "{{ 1 is not string }} {{ 'a' is not string }} {{ x is not defined }}")
case("tests_defined_and", "{{ x is defined and x is false }} {{ y is defined and y is false }}", y=False)
case("tests_lower_upper", "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aB' is lower }}")
case("test_unknown", "{{ x is frobnicated }}")

# --- globals ----------------------------------------------------------------------------------
case("range", "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ range(0)|list }}")
case("range_too_big", "{{ range(100001)|length }}")
case("dict_global", "{{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }} {{ dict([('k', 'v')]) }}")
case("raise_exception", "before{{ raise_exception('Custom message: ' ~ 42) }}")
case("raise_in_macro", "{% macro m() %}{{ raise_exception('from macro') }}{% endmacro %}{{ m() }}")
case("generation_tag", "{% generation %}gen {{ 1 }}{% endgeneration %}|{%- generation -%}  x  {%- endgeneration -%}|")

# --- syntax errors -----------------------------------------------------------------------------
case("syntax_unclosed_block", "{% if true %}x")
case("syntax_unknown_tag", "{% frobnicate %}")
case("syntax_include", "{% include 'x.jinja' %}")
case("syntax_extends", "{% extends 'base' %}")
case("syntax_call_block", "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}")
case("syntax_bad_expr", "{{ 1 + }}")
case("syntax_unclosed_var", "{{ x ")
case("syntax_unclosed_comment", "{# x ")
case("syntax_unbalanced", "{{ (1 }}")
case("syntax_endfor_mismatch", "{% for x in y %}{% endif %}")
case("syntax_break_outside_loop", "{% break %}")

# --- more corners ------------------------------------------------------------------------------
case("lex_braces_in_data", "a { b } {x} }} %} #}")
case("lex_tag_in_string", "{{ '}}' }}|{{ '{{' }}|{{ \"%}\" }}|{% if '%}' %}y{% endif %}")
case("lex_comment_lstrip", "a\n    {# c #}\nb")
case("lex_comment_minus_in_body", "a{# x - y -#}   b")
case("lex_var_minus_ws", "{{ 'a' -}}\n\n   {{ 'b' }}")
case("lex_block_line_starting", "{% if true %}\n   {% if true %}\n   x\n   {% endif %}\n{% endif %}")
case("lex_lstrip_after_var", "{{ 'a' }}   {% if true %}b{% endif %}")
case("lex_lstrip_after_minus_var", "{{ 'a' -}}\n   {% if true %}b{% endif %}")
case("lex_float_forms", "{{ 1.5 }} {{ 1e3 }} {{ 1E-2 }} {{ 1_0.5 }} {{ 2.0e0 }} {{ 007 if false else 0 }}")
case("lex_names_unicode", "{% set café = 1 %}{{ café }}")
case("elif_chain", "{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}")
case("nested_subscripts", "{{ d['a'][0]['b'] }} {{ d.a[0].b }} {{ d['a'][-1] }}", d={"a": [{"b": "x"}, 2]})
case("dict_literal_trailing_comma", "{{ {'a': 1,} }} {{ [1, 2,] }} {{ (1, 2,) }}")
case("print_tuple", "{{ 1, 2 }}")
case("call_kwargs_trailing_comma", "{{ dict(a=1,) }}")
case("tool_call_arguments", "{% for tc in calls %}{% if tc.function %}{% set tc = tc.function %}{% endif %}{{ tc.name }}({{ tc.arguments|tojson if tc.arguments is not string else tc.arguments }}) {% endfor %}", calls=[{"function": {"name": "f", "arguments": {"x": 1, "y": [1, 2]}}}, {"name": "g", "arguments": "{\"raw\": true}"}])
case("think_split", "{% set c = content %}{% if '</think>' in c %}{% set r = c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}{% set c = c.split('</think>')[-1].lstrip('\\n') %}{% endif %}[{{ r }}][{{ c }}]", content="<think>\nreason\n</think>\n\nanswer")
case("multi_step_tool", "{% set ns = namespace(multi=true, last=msgs|length - 1) %}{% for m in msgs[::-1] %}{% set index = (msgs|length - 1) - loop.index0 %}{% if ns.multi and m.role == 'user' %}{% set ns.multi = false %}{% set ns.last = index %}{% endif %}{% endfor %}{{ ns.last }}", msgs=[{"role": "user"}, {"role": "assistant"}, {"role": "user"}, {"role": "tool"}])
case("str_upper_special", "{{ 'straße'.upper() }} {{ 'ǆ'|capitalize }} {{ 'ǆa'.title() }}")
case("str_lower_sigma", "{{ 'ΣΑΣ'.lower() }}")
case("repr_float_keys", "{{ {1.5: 'a', 2.0: 'b'} }}")
case("int_float_equal_keys", "{{ {1: 'a', 1.0: 'b', true: 'c'} }}")
case("big_int_literal", "{{ 9223372036854775807 }}")
case("list_compare_eq", "{{ [1, [2]] == [1, [2]] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ (1, 2) == [1, 2] }}")
case("float_int_format", "{{ 3.0 * 2 }} {{ 7 / 7 }} {{ 2 ** 62 }} {{ 10 ** 18 / 10 ** 17 }} {{ 9223372036854775807 + 0 }}")
case("content_is_checks", "{% for c in contents %}{{ c is string }}{{ c is iterable and c is not mapping }}{{ c is none or c is undefined }};{% endfor %}", contents=["s", [1], {"a": 1}, None])
case("length_of_int", "{{ 5|length }}")
case("join_filter_ints", "{{ [1, none, true]|join('|') }}")
case("string_of_markup", "{{ ('<x>'|safe)|string }} {{ ('<x>'|safe)|length }}")
case("loop_length_nested_filter", "{% for x in [1, 2, 3, 4] if x > 1 %}{% if loop.last %}{{ loop.length }}{{ loop.revindex }}{% endif %}{% endfor %}")
case("set_in_loop_reads_outer_first", "{% set x = 'outer' %}{% for i in [1] %}{{ x }}{% set x = 'inner' %}{{ x }}{% endfor %}{{ x }}")
case("macro_call_in_expression", "{% macro r(c) %}<{{ c }}>{% endmacro %}{{ '[' + r('a') + ']' }}{{ r('b')|length }}")
case("undefined_method_on_none", "{{ none.startswith('a') }}")
case("int_attr", "[{{ (5).real }}]")
case("strip_none_arg", "[{{ '  a '.strip(none) }}]")
case("split_none_then_max", "{{ 'a  b  c'.split(none, 0) }} {{ '  a  b'.split(none, 0) }}")


def render(template: str, vars: dict) -> dict:
    out: dict = {}
    try:
        out["output"] = _compile_jinja_template(template).render(**vars)
    except Exception as e:  # noqa: BLE001
        out["error"] = str(e)
        out["error_type"] = type(e).__name__
    return out


def main():
    versions = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    bad = {k: (versions[k], want) for k, want in PINNED.items() if versions[k] != want}
    if bad:
        raise SystemExit(f"unpinned reference: {bad}")
    names = set()
    lines = []
    for name, template, vars in CASES:
        if name in names:
            raise SystemExit(f"duplicate case {name}")
        names.add(name)
        vars = json.loads(json.dumps(vars))  # exactly what the Go side decodes
        row = {"name": name, "template": template, "vars": vars}
        row.update(render(template, vars))
        lines.append(json.dumps(row, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_err = sum(1 for line in lines if '"error_type"' in line)
    print(f"wrote {OUT.relative_to(REPO)}: {len(lines)} cases ({n_err} errors)", file=sys.stderr)


if __name__ == "__main__":
    main()
