#!/usr/bin/env python3
"""Writes testdata/tokenizer/{qwen3vl,qwen3.5}.codepoints.json: how the reference sees every code point.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/tokenizer_codepoints.py

Everything is measured on the pinned tokenizers (0.23.3), never taken from a Unicode table:

* "L", "N", "M", "S": the code points 0..0x10FFFF (surrogates excluded) that the regex engine
  inside tokenizers (Oniguruma) matches with \\p{L}, \\p{N}, \\p{M} and \\s. Each class is probed
  with a one-class pattern (`tokenizers.pre_tokenizers.Split(Regex(r"\\p{L}"), "removed")`) on
  long batches "!c1!c2!...!" (the separator is in no class): a slot that comes back empty was
  matched. Then the family's real split pattern (read from its tokenizer.json, Split Isolated)
  is run on crafted strings per code point and must split exactly as the classes predict:
    "a"+c  is one piece  iff c in L (Qwen3.5: L or M)
    c+c    is two pieces iff c in N (for c not in L/M, not \\r \\n ')
    "x"+c+"!" is three pieces iff c in S (for c not in L/M/N, not \\r \\n '; "x  !" for the space)
  "M" is written for Qwen3.5 only (the Qwen3-VL pattern does not use \\p{M}).
* "nfc": every code point c whose reference NFC (`tokenizers.normalizers.NFC().normalize_str`)
  differs from c, as [c, NFC(c)].
* "ccc": the canonical combining classes the reference normalizer uses, as [lo, hi, ccc] runs of
  non-zero classes. A code point whose NFC is itself is flagged non-zero when it reorders
  against U+0345 (ccc 240) or U+0334 (ccc 1); its class is then found by ordering it against one
  probe mark per class value (each probe mark's own class checked the same way).
* "compose": [input, NFC(input)] for ~2000 two- and three-code-point sequences: the canonical
  decompositions (Python's unicodedata lists the candidates; the result is the reference's),
  blocked and reordered mark sequences, and Hangul L+V, L+V+T, LV+T jamo.

Ranges are sorted, inclusive [lo, hi]. The script prints where the reference differs from
Python's unicodedata (Unicode 14.0.0 in Python 3.11) as a summary on stderr; the README records
it. Output: compact JSON, one key per line, deterministic (a second run gives identical files).
"""

from __future__ import annotations

import json
import os
import random
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
from tokenizers import Regex, normalizers, pre_tokenizers  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TD = REPO / "testdata" / "tokenizer"
GENERATOR = "tools/reference/tokenizer_codepoints.py"
PINNED = {"tokenizers": "0.23.3"}
FAMILIES = ["qwen3vl", "qwen3.5"]
ALL = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
BATCH = 50000
SEP = "\u4dc0"  # HEXAGRAM FOR THE CREATIVE HEAVEN: a starter, no decomposition, composes with nothing
NFC = normalizers.NFC()


def ranges(cps: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def probe_class(pattern: str) -> set[int]:
    """The code points matched by a one-code-point pattern."""
    split = pre_tokenizers.Split(Regex(pattern), "removed")
    got: set[int] = set()
    for sep, cps in (("!", [c for c in ALL if c != 0x21]), ("#", [0x21])):
        for i in range(0, len(cps), BATCH):
            chunk = cps[i:i + BATCH]
            s = sep + sep.join(map(chr, chunk)) + sep
            kept = "".join(p for p, _ in split.pre_tokenize_str(s)).split(sep)[1:-1]
            assert len(kept) == len(chunk), pattern
            for c, k in zip(chunk, kept):
                if k == "":
                    got.add(c)
                else:
                    assert k == chr(c), (pattern, hex(c))
    assert 0x21 not in got or pattern  # "!" is in no class: checked by the cross-check below
    return got


def cross_check(fam: str, pattern: str, cls: dict[str, set[int]]) -> None:
    split = pre_tokenizers.Split(Regex(pattern), "isolated")
    letter = cls["L"] | (cls["M"] if fam == "qwen3.5" else set())
    bad = []
    skip = {0x0D, 0x0A, 0x27}
    for c in ALL:
        if c in skip:
            continue
        ch = chr(c)
        n1 = len(split.pre_tokenize_str("a" + ch))
        if (n1 == 1) != (c in letter):
            bad.append((c, "a+c", n1))
            continue
        if c in letter:
            continue
        n2 = len(split.pre_tokenize_str(ch + ch))
        if (n2 == 2) != (c in cls["N"]):
            bad.append((c, "c+c", n2))
            continue
        if c in cls["N"]:
            continue
        # " ?" lets one space join the punctuation after it: probe the space with two of them.
        probe = "x" + ch + (ch if c == 0x20 else "") + "!"
        n3 = len(split.pre_tokenize_str(probe))
        if (n3 == 3) != (c in cls["S"]):
            bad.append((c, "x+c+!", n3))
    if bad:
        sys.exit(f"{GENERATOR}: {fam}: the real pattern disagrees with the classes: "
                 + ", ".join(f"U+{c:04X} {p} -> {n}" for c, p, n in bad[:20]))


def nfc_batch(strings: list[str]) -> list[str]:
    out: list[str] = []
    for i in range(0, len(strings), BATCH):
        chunk = strings[i:i + BATCH]
        plain = [s for s in chunk if SEP not in s]
        got = NFC.normalize_str(SEP + SEP.join(plain) + SEP).split(SEP)[1:-1]
        assert len(got) == len(plain)
        it = iter(got)
        out += [NFC.normalize_str(s) if SEP in s else next(it) for s in chunk]
    return out


def probe_nfc() -> dict[int, str]:
    res = nfc_batch([chr(c) for c in ALL])
    return {c: r for c, r in zip(ALL, res) if r != chr(c)}


def probe_ccc(nfc: dict[int, str]) -> dict[int, int]:
    """Non-zero canonical combining classes of the code points whose NFC is themselves."""
    cands = [c for c in ALL if c not in nfc and c not in (0x0345, 0x0334)]
    a = nfc_batch(["\u0345" + chr(c) for c in cands])
    b = nfc_batch([chr(c) + "\u0334" for c in cands])
    flagged = [c for c, x, y in zip(cands, a, b)
               if x != "\u0345" + chr(c) or y != chr(c) + "\u0334"] + [0x0345, 0x0334]
    # One probe mark per class value: the lowest code point Python gives that class.
    flagged = set(flagged)
    reps: dict[int, int] = {}
    for c in ALL:
        k = unicodedata.combining(chr(c))
        if k and k not in reps and c not in nfc and c in flagged:
            reps[k] = c
    flagged = set(flagged)
    out: dict[int, int] = {}
    for c in sorted(flagged):
        ch = chr(c)
        lower, equal = [], None
        for k, m in sorted(reps.items()):
            if m == c:
                equal = k
                continue
            mc = NFC.normalize_str(SEP + chr(m) + ch)[1:]
            cm = NFC.normalize_str(SEP + ch + chr(m))[1:]
            moves_before = mc == ch + chr(m)   # c sorts before m: ccc(c) < k
            m_before = cm == chr(m) + ch       # m sorts before c: ccc(c) > k
            if moves_before and m_before:
                raise AssertionError(hex(c))
            if m_before:
                lower.append(k)
            elif not moves_before:
                equal = k if equal is None else equal
        if equal is None:
            sys.exit(f"{GENERATOR}: U+{c:04X}: non-zero class between probe values {lower[-1:]}")
        out[c] = equal
    # Every probe mark must have come out with its Python class (else the probes are unsound).
    for k, m in reps.items():
        if out.get(m) not in (k, None):
            sys.exit(f"{GENERATOR}: probe mark U+{m:04X}: reference class {out.get(m)}, Python {k}")
    return out


def ccc_runs(ccc: dict[int, int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for c in sorted(ccc):
        if runs and runs[-1][1] == c - 1 and runs[-1][2] == ccc[c]:
            runs[-1][1] = c
        else:
            runs.append([c, c, ccc[c]])
    return runs


def compose_cases() -> list[str]:
    seqs: list[str] = []
    for c in ALL:
        d = unicodedata.decomposition(chr(c))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) == 2:
            seqs.append("".join(map(chr, parts)))
            full = unicodedata.normalize("NFD", chr(c))
            if len(full) == 3:
                seqs.append(full)
    seqs = sorted(set(seqs))
    rng = random.Random(14003)
    # Blocked / reordered marks after a composable base.
    bases = "aeiouAEIOUcnsyzCNSYZ\u03b1\u03b7\u03c9\u0430\u0435"
    marks = "\u0300\u0301\u0302\u0303\u0308\u030a\u030c\u0323\u0327\u0328\u0316\u031b\u0345\u0334\u05b0\u0f71"
    for _ in range(300):
        seqs.append(rng.choice(bases) + rng.choice(marks) + rng.choice(marks))
    # Hangul: L+V, L+V+T, LV+T, and non-composing near-misses.
    for _ in range(150):
        L, V, T = rng.randrange(0x1100, 0x1113), rng.randrange(0x1161, 0x1176), rng.randrange(0x11A8, 0x11C3)
        seqs.append(chr(L) + chr(V))
        seqs.append(chr(L) + chr(V) + chr(T))
        seqs.append(chr(0xAC00 + rng.randrange(19 * 21) * 28) + chr(T))
    for s in ["\u1100\u11a8", "\uac01\u11a8", "\u1113\u1161", "\u1100\u1176", "\uac00\u11a7",
              "\uac00\u11c3", "\u1100\u1161\u11a7", "\u115f\u1160", "\u1100\u1160", "\uac00\u1161"]:
        seqs.append(s)
    seen, out = set(), []
    for s in seqs:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def main() -> int:
    if tokenizers.__version__ != PINNED["tokenizers"]:
        sys.exit(f"{GENERATOR}: want tokenizers {PINNED['tokenizers']}, have {tokenizers.__version__}")
    cls = {"L": probe_class(r"\p{L}"), "N": probe_class(r"\p{N}"), "M": probe_class(r"\p{M}"),
           "S": probe_class(r"\s")}
    nfc = probe_nfc()
    ccc = probe_ccc(nfc)
    comp = compose_cases()
    comp_res = nfc_batch(comp)
    summary(cls, nfc, ccc, comp, comp_res)
    for fam in FAMILIES:
        tj = json.loads((TD / fam / "tokenizer.json").read_text())
        pattern = tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        cross_check(fam, pattern, cls)
        keys = ["L", "N"] + (["M"] if fam == "qwen3.5" else []) + ["S"]
        doc = {"generator": GENERATOR, "tokenizers": tokenizers.__version__, "pattern": pattern}
        doc.update({k: ranges(list(cls[k])) for k in keys})
        doc["nfc"] = [[c, nfc[c]] for c in sorted(nfc)]
        doc["ccc"] = ccc_runs(ccc)
        doc["compose"] = [[s, r] for s, r in zip(comp, comp_res)]
        lines = [json.dumps(k) + ": " + json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                 for k, v in doc.items()]
        out = TD / f"{fam}.codepoints.json"
        out.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        json.loads(out.read_text(encoding="utf-8"))
        print(f"{out.relative_to(REPO)}: {out.stat().st_size} bytes", file=sys.stderr)
    return 0


def summary(cls, nfc, ccc, comp, comp_res) -> None:
    def py_cat(c: int) -> str:
        return unicodedata.category(chr(c))
    py = {"L": lambda c: py_cat(c)[0] == "L", "N": lambda c: py_cat(c)[0] == "N",
          "M": lambda c: py_cat(c)[0] == "M", "S": lambda c: chr(c).isspace()}
    print(f"reference vs Python unicodedata {unicodedata.unidata_version}:", file=sys.stderr)
    for k in ["L", "N", "M", "S"]:
        only_ref = sorted(c for c in cls[k] if not py[k](c))
        only_py = sorted(c for c in ALL if py[k](c) and c not in cls[k])
        print(f"  {k}: {len(cls[k])} code points; only reference {len(only_ref)} {fmt(only_ref)};"
              f" only Python {len(only_py)} {fmt(only_py)}", file=sys.stderr)
    py_nfc = {c for c in ALL if unicodedata.normalize("NFC", chr(c)) != chr(c)}
    print(f"  nfc changes: reference {len(nfc)}, Python {len(py_nfc)};"
          f" only reference {fmt(sorted(set(nfc) - py_nfc))}; only Python {fmt(sorted(py_nfc - set(nfc)))};"
          f" different result {fmt(sorted(c for c in nfc if c in py_nfc and unicodedata.normalize('NFC', chr(c)) != nfc[c]))}",
          file=sys.stderr)
    py_ccc = {c: unicodedata.combining(chr(c)) for c in ALL if unicodedata.combining(chr(c)) and c not in nfc}
    diff = sorted(c for c in set(py_ccc) | set(ccc) if py_ccc.get(c, 0) != ccc.get(c, 0))
    print(f"  ccc: reference {len(ccc)} non-zero; differ from Python at {len(diff)} {fmt(diff)}", file=sys.stderr)
    vals = sorted({(ccc.get(c, 0), py_ccc.get(c, 0)) for c in diff})
    print(f"  ccc (reference, Python) pairs among those: {vals}", file=sys.stderr)
    cd = [s for s, r in zip(comp, comp_res) if unicodedata.normalize("NFC", s) != r]
    print(f"  compose: {len(comp)} sequences; differ from Python {len(cd)}: "
          + " ".join("+".join(f"{ord(x):04X}" for x in s) for s in cd[:30]), file=sys.stderr)


def fmt(cps: list[int]) -> str:
    r = ranges(cps)
    s = " ".join(f"{a:04X}" if a == b else f"{a:04X}-{b:04X}" for a, b in r[:40])
    return "[" + s + (" ..." if len(r) > 40 else "") + "]"


if __name__ == "__main__":
    sys.exit(main())
