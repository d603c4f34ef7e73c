#!/usr/bin/env python3
"""Writes the decode goldens testdata/tokenizer/{qwen3vl,qwen3.5}.decode.jsonl.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/tokenizer_decode_goldens.py

For each tokenizer folder, 500 random id sequences (random.Random(seed), seed 14101 for
qwen3vl and 14102 for qwen3.5; lengths 1..40), one line each, in order:

    {"ids": [int],
     "decoded": str,          # AutoTokenizer.decode(ids, skip_special_tokens=False)
     "decoded_skip": str,     # ... skip_special_tokens=True
     "stream": [str|null],    # tokenizers DecodeStream(skip_special_tokens=False).step per id
     "stream_skip": [str|null]}  # DecodeStream(skip_special_tokens=True)

Each id is drawn from one of these pools (weights HEAVY for half the cases, MILD for the others): the 256 single-byte tokens (most
of them bytes >= 0x80, which are never valid UTF-8 alone), vocabulary tokens whose bytes are
not valid UTF-8 (fragments of multi-byte characters), tokens holding valid multi-byte text,
any vocabulary token, and the added tokens. So invalid UTF-8 is common and shows how the
reference replaces it (U+FFFD). Output json.dumps(ensure_ascii=False); deterministic (a second
run gives identical files). Refuses to run on other versions than the pinned ones.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from tokenizers.decoders import DecodeStream  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TD = REPO / "testdata" / "tokenizer"
GENERATOR = "tools/reference/tokenizer_decode_goldens.py"
PINNED = {"tokenizers": "0.23.3", "transformers": "5.24.0"}
FAMILIES = [("qwen3vl", 14101), ("qwen3.5", 14102)]
CASES = 500
# Half the cases (chosen per case) draw with HEAVY, the others with MILD weights.
HEAVY = [("byte", 30), ("fragment", 30), ("multibyte", 10), ("any", 20), ("added", 10)]
MILD = [("byte", 2), ("fragment", 2), ("multibyte", 30), ("any", 56), ("added", 10)]


def byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, inverted: printable character -> byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) \
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def pools(raw: Tokenizer) -> dict[str, list[int]]:
    dec = byte_decoder()
    added = sorted(raw.get_added_tokens_decoder())
    vocab = raw.get_vocab(with_added_tokens=False)
    out = {"byte": [], "fragment": [], "multibyte": [], "any": [], "added": added}
    for piece, i in sorted(vocab.items(), key=lambda kv: kv[1]):
        b = bytes(dec[ch] for ch in piece)
        out["any"].append(i)
        if len(b) == 1:
            out["byte"].append(i)
            continue
        try:
            s = b.decode("utf-8")
        except UnicodeDecodeError:
            out["fragment"].append(i)
            continue
        if any(ord(ch) >= 0x80 for ch in s):
            out["multibyte"].append(i)
    assert len(out["byte"]) == 256, len(out["byte"])
    return out


def sample(rng: random.Random, p: dict[str, list[int]]) -> list[int]:
    n = rng.randint(1, 40)
    mix = HEAVY if rng.random() < 0.5 else MILD
    names = [name for name, _ in mix]
    weights = [w for _, w in mix]
    ids = []
    for _ in range(n):
        pool = p[rng.choices(names, weights)[0]]
        if pool is p["byte"] and rng.random() < 0.8:
            pool = p["byte_high"]  # 80 % of byte draws: a byte >= 0x80
        ids.append(pool[rng.randrange(len(pool))])
    return ids


def stream_of(raw: Tokenizer, ids: list[int], skip: bool) -> list:
    ds = DecodeStream(skip_special_tokens=skip)
    return [ds.step(raw, i) for i in ids]


def main() -> int:
    got = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__}
    if got != PINNED:
        sys.exit(f"{GENERATOR}: want {PINNED}, have {got}")
    for fam, seed in FAMILIES:
        d = TD / fam
        tok = transformers.AutoTokenizer.from_pretrained(str(d))
        raw = Tokenizer.from_file(str(d / "tokenizer.json"))
        p = pools(raw)
        dec = byte_decoder()
        p["byte_high"] = [i for i in p["byte"] if dec[raw.id_to_token(i)] >= 0x80]
        rng = random.Random(seed)
        lines, bad = [], 0
        for _ in range(CASES):
            ids = sample(rng, p)
            decoded = tok.decode(ids, skip_special_tokens=False)
            assert decoded == raw.decode(ids, skip_special_tokens=False), ids
            rec = {"ids": ids, "decoded": decoded,
                   "decoded_skip": tok.decode(ids, skip_special_tokens=True),
                   "stream": stream_of(raw, ids, False), "stream_skip": stream_of(raw, ids, True)}
            bad += "\ufffd" in decoded
            lines.append(json.dumps(rec, ensure_ascii=False))
        out = TD / f"{fam}.decode.jsonl"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        out.write_bytes(data)
        print(f"{out.relative_to(REPO)}: {CASES} cases ({bad} decode to text with U+FFFD), "
              f"pools {{{', '.join(f'{k}: {len(v)}' for k, v in p.items())}}}, {len(data)} bytes",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
