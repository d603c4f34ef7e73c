#!/usr/bin/env python3
"""Writes testdata/tokenizer/bench.txt: ~1 MB of multilingual UTF-8 text for tokenizer speed tests.

Usage (from the repository root, on this machine: the sources are files installed here):

    tools/reference/.venv/bin/python tools/reference/bench_corpus.py

The text is real, freely licensed text found offline, in fixed sections, each cut at a line
boundary once it reaches its byte budget (SECTIONS):

* english: docstrings (module, class, function) of the Python 3.11 standard library modules
  (PSF licence), files in sorted order, read with ast;
* go: Go standard library sources from $(go env GOROOT)/src (BSD licence), non-test files of a
  fixed list of packages in sorted order;
* chinese, japanese, korean, arabic, cyrillic, devanagari, greek, hebrew, thai, vietnamese:
  the strings of the Unicode CLDR locale data as the pinned Babel ships it (names of languages,
  scripts, territories, currencies, time zones, units, calendar and number words, patterns;
  CLDR data under the Unicode License v3, Babel BSD-3-Clause), read with
  babel.localedata.load (inherited values merged), every string of the locale's data tree in
  sorted-key order, only those with a non-ASCII character, duplicates dropped;
* emoji: the emoji table of rich as vendored by pip (MIT licence), one "emoji name" per line.

Each section starts with a line "=== <section> ===". The total must be 1,000,000 +- 5 % bytes.
Deterministic for a given machine (same Go, Python and Debian packages): a second run gives an
identical file; the README records the versions it was made with.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "testdata" / "tokenizer" / "bench.txt"
GENERATOR = "tools/reference/bench_corpus.py"
GO_PACKAGES = ["strings", "bytes", "unicode/utf8", "bufio", "sort", "strconv", "encoding/json",
               "text/template", "net/url", "fmt", "io", "errors", "path/filepath"]

# (section, byte budget, CLDR locales for the locale sections)
SECTIONS = [
    ("english", 285_000, None),
    ("go", 230_000, None),
    ("chinese", 85_000, ["zh_Hans", "zh_Hant", "yue"]),
    ("japanese", 55_000, ["ja"]),
    ("korean", 45_000, ["ko"]),
    ("arabic", 60_000, ["ar"]),
    ("cyrillic", 80_000, ["ru", "uk"]),
    ("devanagari", 60_000, ["hi", "mr", "ne"]),
    ("greek", 15_000, ["el"]),
    ("hebrew", 15_000, ["he"]),
    ("thai", 15_000, ["th"]),
    ("vietnamese", 15_000, ["vi"]),
    ("emoji", 25_000, None),
]


def english() -> list[str]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for f in sorted(lib.glob("*.py")):
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in [tree] + [n for n in ast.walk(tree)
                              if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]:
            doc = ast.get_docstring(node)
            if doc:
                out.append(doc)
    return out


def go_sources() -> list[str]:
    root = Path(subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True,
                               check=True).stdout.strip()) / "src"
    out = []
    for pkg in GO_PACKAGES:
        for f in sorted((root / pkg).glob("*.go")):
            if not f.name.endswith("_test.go"):
                out.append(f.read_text(encoding="utf-8"))
    return out


def cldr_strings(obj, out: list[str]) -> None:
    from collections.abc import Mapping
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, Mapping):
        for k in sorted(obj.keys(), key=repr):
            cldr_strings(obj[k], out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            cldr_strings(v, out)


def cldr(locales: list[str]) -> list[str]:
    from babel import localedata
    out, seen = [], set()
    for loc in locales:
        strs: list[str] = []
        cldr_strings(localedata.load(loc), strs)
        for s in strs:
            if s.strip() and s not in seen and any(ord(c) > 127 for c in s):
                seen.add(s)
                out.append(s)
    return out


def emoji() -> list[str]:
    from pip._vendor.rich._emoji_codes import EMOJI
    return [f"{v} {k.replace('_', ' ')}" for k, v in sorted(EMOJI.items())]


def take(texts: list[str], budget: int) -> str:
    lines: list[str] = []
    n = 0
    for t in texts:
        for line in t.replace("\r\n", "\n").split("\n"):
            b = len(line.encode("utf-8")) + 1
            if n + b > budget:
                return "\n".join(lines) + "\n"
            lines.append(line)
            n += b
    sys.exit(f"{GENERATOR}: only {n} bytes of text for a {budget}-byte section")


def main() -> int:
    parts = []
    for name, budget, langs in SECTIONS:
        if name == "english":
            texts = english()
        elif name == "go":
            texts = go_sources()
        elif name == "emoji":
            texts = emoji()
        else:
            texts = cldr(langs)
        body = take(texts, budget)
        parts.append(f"=== {name} ===\n" + body)
        print(f"{name}: {len(body.encode('utf-8'))} bytes", file=sys.stderr)
    data = "".join(parts).encode("utf-8")
    assert 950_000 <= len(data) <= 1_050_000, len(data)
    OUT.write_bytes(data)
    print(f"{OUT.relative_to(REPO)}: {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
