#!/usr/bin/env python3
"""Writes the tokenizer id goldens testdata/tokenizer/{qwen3vl,qwen3.5}.golden.jsonl.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/tokenizer_goldens.py

For every case of testdata/tokenizer/corpus.jsonl (tokenizer_corpus.py), and for each tokenizer
folder testdata/tokenizer/<family>/ (built by build_tokenizers.py), one line, in corpus order:

    {"name": str,                 # the corpus case
     "ids": [int],                # AutoTokenizer.from_pretrained(dir)(text).input_ids
     "pieces": [str],             # convert_ids_to_tokens(ids) (byte-level form)
     "decoded": str,              # decode(ids, skip_special_tokens=False)
     "decoded_skip": str,         # decode(ids, skip_special_tokens=True)
     "pretokens": [str],          # see below
     "stream": [str | null]}      # DecodeStream(skip_special_tokens=False).step(tok, id) per id

pretokens: the text is cut at the added tokens (leftmost, longest first, on the raw text: every
added token has normalized=False); each remaining segment goes through the tokenizer.json
normalizer (NFC) and then its pre-tokenizer (split regex, Isolated, then ByteLevel), and the
pieces of all segments are concatenated in order, in byte-level form (each UTF-8 byte as its
GPT-2 printable character). The added tokens themselves are not in the list. The script checks
that encoding each segment alone and splicing in the added ids gives `ids`, and that the
non-added pieces concatenate to the pretokens.

It also checks decode(ids) against NFC(text) and prints the cases where they differ; the
README records the result. Output is json.dumps(ensure_ascii=False), deterministic (a second run
gives identical files). Refuses to run on other versions than the pinned ones.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from tokenizers.decoders import DecodeStream  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TD = REPO / "testdata" / "tokenizer"
GENERATOR = "tools/reference/tokenizer_goldens.py"
PINNED = {"tokenizers": "0.23.3", "transformers": "5.24.0"}
FAMILIES = ["qwen3vl", "qwen3.5"]


def check_versions() -> None:
    got = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__}
    if got != PINNED:
        sys.exit(f"{GENERATOR}: want {PINNED}, have {got}")


def load_corpus() -> list[dict]:
    with open(TD / "corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def added_splitter(raw: Tokenizer):
    """A regex matching any added token, longest alternative first (leftmost-longest)."""
    contents = sorted(raw.get_added_tokens_decoder().values(), key=lambda t: -len(t.content))
    for t in contents:
        assert not t.normalized and not t.lstrip and not t.rstrip and not t.single_word, t
    return re.compile("|".join(re.escape(t.content) for t in contents))


def segments(splitter, text: str) -> list[tuple[bool, str]]:
    """(is_added, piece) in order; empty text pieces are dropped."""
    out, pos = [], 0
    for m in splitter.finditer(text):
        if m.start() > pos:
            out.append((False, text[pos:m.start()]))
        out.append((True, m.group(0)))
        pos = m.end()
    if pos < len(text):
        out.append((False, text[pos:]))
    return out


def stream_of(raw: Tokenizer, ids: list[int], skip: bool) -> list:
    ds = DecodeStream(skip_special_tokens=skip)
    return [ds.step(raw, i) for i in ids]


def family(fam: str, corpus: list[dict]) -> tuple[list[str], list[str]]:
    d = TD / fam
    tok = transformers.AutoTokenizer.from_pretrained(str(d))
    raw = Tokenizer.from_file(str(d / "tokenizer.json"))
    splitter = added_splitter(raw)
    norm, pre = raw.normalizer, raw.pre_tokenizer
    lines, notes = [], []
    for case in corpus:
        name, text = case["name"], case["text"]
        ids = tok(text).input_ids
        assert ids == raw.encode(text).ids, (fam, name, "transformers vs tokenizers")
        pieces = tok.convert_ids_to_tokens(ids)
        pretokens, spliced = [], []
        for is_added, seg in segments(splitter, text):
            if is_added:
                spliced.append(raw.token_to_id(seg))
                continue
            pretokens += [p for p, _ in pre.pre_tokenize_str(norm.normalize_str(seg))]
            spliced += raw.encode(seg).ids
        assert spliced == ids, (fam, name, "segment splice")
        added_ids = set(raw.get_added_tokens_decoder())
        assert "".join(p for i, p in zip(ids, pieces) if i not in added_ids) == "".join(pretokens), (fam, name)
        decoded = tok.decode(ids, skip_special_tokens=False)
        decoded_skip = tok.decode(ids, skip_special_tokens=True)
        assert decoded == raw.decode(ids, skip_special_tokens=False), (fam, name)
        stream = stream_of(raw, ids, False)
        # The stream's chunks concatenate to the full decode when it ends on a complete character.
        joined = "".join(s for s in stream if s is not None)
        if joined != decoded:
            notes.append(f"{fam} {name}: stream chunks != decode ({len(joined)} vs {len(decoded)} chars)")
        nfc_ref = norm.normalize_str(text)
        if decoded != nfc_ref:
            notes.append(f"{fam} {name}: decode(encode(text)) != reference NFC(text)")
        if nfc_ref != unicodedata.normalize("NFC", text):
            notes.append(f"{fam} {name}: reference NFC != Python unicodedata {unicodedata.unidata_version} NFC")
        lines.append(json.dumps({"name": name, "ids": ids, "pieces": pieces, "decoded": decoded,
                                 "decoded_skip": decoded_skip, "pretokens": pretokens,
                                 "stream": stream}, ensure_ascii=False))
    return lines, notes


def main() -> int:
    check_versions()
    corpus = load_corpus()
    for fam in FAMILIES:
        lines, notes = family(fam, corpus)
        out = TD / f"{fam}.golden.jsonl"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        out.write_bytes(data)
        n = sum(len(json.loads(l)["ids"]) for l in lines)
        print(f"{out.relative_to(REPO)}: {len(lines)} cases, {n} ids, {len(data)} bytes", file=sys.stderr)
        for note in notes:
            print("  " + note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
