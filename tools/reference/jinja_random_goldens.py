#!/usr/bin/env python3
"""Differential Jinja goldens: testdata/chat/jinja_random.jsonl.

Two families, from fixed seeds. "r" cases: random expressions over literals, the variables below, operators, filters, tests,
methods and subscripts, each printed as `{{ expr }}` and rendered by the real jinja2 3.1.6 in
transformers 5.24.0's chat-template environment (`_compile_jinja_template`). Same line format as
jinja.jsonl: {"name", "template", "vars", "output"} or {..., "error", "error_type"}.

"w" cases: 600 random templates mixing text of spaces, tabs and newlines (\n and \r\n) with
{{ }}, {# #}, if/else, for/else, set (names and namespace attributes), raw and macro definitions
and calls, each tag with random whitespace control (-, + or none), rendered the same way.

Left out of the "r" cases, because Python's output is not a property of the language:
- outputs that print an object's address (`<generator object ... at 0x...>`, bound methods,
  classes);
- three quarters of the cases that raise (most random expressions do), so that most lines test
  an output;
- slicing a constant: jinja2's code generator folds a constant `{{ expr }}` at compile time and a
  folded slice of a non-sequence becomes Undefined, while at run time it is a TypeError; the
  generator only slices expressions that name a variable (`(E if n else E)[...]`, n is None), so
  no slice is folded.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/jinja_random_goldens.py

Deterministic: a rerun writes identical bytes.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "chat" / "jinja_random.jsonl"

import jinja2  # noqa: E402
import transformers  # noqa: E402
from transformers.utils.chat_template_utils import _compile_jinja_template  # noqa: E402

PINNED = {"transformers": "5.24.0", "jinja2": "3.1.6"}
SEED = 20261203
COUNT = 2500

ATOMS = ["0", "1", "-3", "2", "7", "0.5", "1.0", "-2.5", "1e16", "3.0", "''", "'a'", "' a '", "'A b'", "'é'", "'abc'",
         "'a,b'", "'ΣΑΣ'", "'straße'", "none", "true", "false", "x", "y", "s", "l", "d", "u", "n", "f", "t", "[]", "[1, 2]",
         "['a', 'b']", "{}", "{'k': 1}", "(1, 2)"]
BIN = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
FILTERS = ["length", "string", "trim", "upper", "lower", "list", "first", "last", "join", "join(',')", "reverse", "tojson",
           "int", "float", "abs", "round", "round(1)", "default('D')", "default('D', true)", "items", "capitalize", "title",
           "replace('a', 'X')", "safe", "count", "select", "reject('none')", "map('string')", "trim('a')",
           "tojson(indent=1)", "selectattr('k')", "map(attribute='k')", "select('odd')", "reject('string')", "d(0)",
           "int(-1)", "float(0.5)", "tojson(separators=(',', ':'))", "list|length", "items|list", "reverse|list"]
TESTS = ["string", "number", "integer", "float", "none", "defined", "undefined", "mapping", "iterable", "sequence",
         "boolean", "true", "false", "odd", "even", "callable", "lower", "upper", "eq 1", "in [1, 'a']", "divisibleby 2",
         "ne 'a'", "gt 0", "le 1", "sameas none"]
METHODS = ["split()", "split(',')", "strip()", "strip('a')", "lstrip()", "rstrip()", "upper()", "lower()", "title()",
           "startswith('a')", "endswith('b')", "replace('a', 'b')", "find('a')", "count('a')", "get('k')", "get('k', 0)",
           "keys()", "values()", "items()", "index(1)", "rsplit(',', 1)", "capitalize()", "isdigit()", "join(['x', 'y'])",
           "split(none, 1)", "startswith(('x', 'H'))", "rfind('l')", "isspace()", "islower()", "copy()"]
SUBS = ["[0]", "[-1]", "[1:]", "[::-1]", "[:1]", "['k']", "[1]", ".k", ".0", "[0:2:2]", "[-2:]", "[1:-1]"]
VARS = {"x": 5, "y": -2, "s": "Hello, World", "l": [3, "a", None, 1.5], "d": {"k": "v", "n": [1, 2]}, "n": None,
        "f": 2.25, "t": [{"k": 1}, {"k": 0}, {"j": 2}]}

rnd = random.Random(SEED)


def expr(d: int) -> str:
    if d <= 0 or rnd.random() < 0.25:
        return rnd.choice(ATOMS)
    r = rnd.random()
    if r < 0.3:
        return f"({expr(d - 1)} {rnd.choice(BIN)} {expr(d - 1)})"
    if r < 0.45:
        return f"({expr(d - 1)}|{rnd.choice(FILTERS)})"
    if r < 0.55:
        return f"({expr(d - 1)} is {'not ' if rnd.random() < 0.3 else ''}{rnd.choice(TESTS)})"
    if r < 0.68:
        return f"({expr(d - 1)}).{rnd.choice(METHODS)}"
    if r < 0.8:
        return f"({expr(d - 1)} if n else {expr(d - 1)}){rnd.choice(SUBS)}"
    if r < 0.88:
        return f"(not {expr(d - 1)})"
    if r < 0.94:
        return f"({expr(d - 1)} if {expr(d - 1)} else {expr(d - 1)})"
    return f"[{expr(d - 1)}, {expr(d - 1)}]"


# --- templates: whitespace control, blocks, scopes, macros -------------------------------------

rnd2 = random.Random(SEED + 1)
TEMPLATES = 600

TEXT = ["a", " ", "  ", "\n", "\t", "b\n", "\n\n", " c ", "\n  ", "  \n", "x\n  ", "\r\n", " \t "]
def ctl(plus=True):
    return rnd2.choice(["", "", "-", "+"] if plus else ["", "", "-"])
def text():
    return "".join(rnd2.choice(TEXT) for _ in range(rnd2.randint(0, 3)))
def blk(inner):
    return "{%" + ctl() + " " + inner + " " + ctl() + "%}"
def body(d):
    out = []
    for _ in range(rnd2.randint(1, 4)):
        r = rnd2.random()
        out.append(text())
        if r < 0.2 or d <= 0:
            out.append("{{" + ctl(False) + " " + rnd2.choice(["i", "'v'", "loop.index if loop is defined else 0", "ns.n", "x", "m(7) if m is defined else 'nm'", "k('q') if k is defined else 'nk'", "loop.previtem if loop is defined else 'p'", "a if a is defined else 'na'"]) + " " + ctl(False) + "}}")
        elif r < 0.35:
            out.append("{#" + ctl() + " c " + ctl() + "#}")
        elif r < 0.55:
            out.append(blk("if " + rnd2.choice(["true", "false", "i", "x > 1"])) + body(d - 1))
            if rnd2.random() < 0.4:
                out.append(blk("else") + body(d - 1))
            out.append(blk("endif"))
        elif r < 0.75:
            out.append(blk("for i in " + rnd2.choice(["[1, 2]", "range(3)", "[]", "'ab'"])) + body(d - 1))
            if rnd2.random() < 0.2:
                out.append(blk("else") + body(d - 1))
            out.append(blk("endfor"))
        elif r < 0.8:
            out.append(blk("set ns.n = ns.n + 1"))
        elif r < 0.85:
            name = rnd2.choice(["m", "k"])
            out.append(blk(f"macro {name}(a, b=x)") + body(d - 1) + "{{ a }}{{ b }}" + blk("endmacro"))
            out.append("{{" + ctl(False) + f" {name}(" + rnd2.choice(["1", "i", "x, 2", "b=3, a=4", "ns.n"]) + ") " + ctl(False) + "}}")
        elif r < 0.92:
            out.append(blk("raw") + text() + "{{ x }}" + text() + blk("endraw"))
        else:
            out.append(blk("set x = x + 1"))
    out.append(text())
    return "".join(out)

ADDRESSES = (" at 0x", "<built-in", "<function", "<class", "<bound method")  # compared in lower case


def main():
    v = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    bad = {k: (v[k], want) for k, want in PINNED.items() if v[k] != want}
    if bad:
        raise SystemExit(f"unpinned reference: {bad}")
    vars = json.loads(json.dumps(VARS))
    lines, seen, i = [], set(), 0
    while len(lines) < COUNT:
        src = "{{ " + expr(4) + " }}"
        if src in seen:
            continue
        seen.add(src)
        row = {"name": f"r{i:04d}", "template": src, "vars": vars}
        i += 1
        try:
            row["output"] = _compile_jinja_template(src).render(**vars)
            if any(a in row["output"].lower() for a in ADDRESSES):
                continue
        except Exception as e:  # noqa: BLE001
            if any(a in str(e) for a in ADDRESSES) or rnd.random() < 0.75:
                continue  # keep a quarter of the errors: most random expressions fail
            row["error"] = str(e)
            row["error_type"] = type(e).__name__
        lines.append(json.dumps(row, ensure_ascii=False))
    for i in range(TEMPLATES):
        src = "{% set ns = namespace(n=0) %}" + body(3) + text()
        row = {"name": f"w{i:04d}", "template": src, "vars": {"x": 1}}
        try:
            row["output"] = _compile_jinja_template(src).render(x=1)
        except Exception as e:  # noqa: BLE001
            row["error"] = str(e)
            row["error_type"] = type(e).__name__
        lines.append(json.dumps(row, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_err = sum(1 for line in lines if '"error_type"' in line)
    print(f"wrote {OUT.relative_to(REPO)}: {len(lines)} cases ({n_err} errors)", file=sys.stderr)


if __name__ == "__main__":
    main()
