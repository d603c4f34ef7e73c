#!/usr/bin/env python3
"""Writes the generation goldens testdata/generate/{processors,stop_strings}.jsonl.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/logits_goldens.py

processors.jsonl: logits rows (seeded numpy; vocab 1000, and 151936 for a few rows; with ties,
-inf entries and large magnitudes) and previous ids, run through the logits processors that
transformers' own GenerationMixin._get_logits_processor builds from a GenerationConfig (the
checkpoint-style dict, completed with GenerationConfig._get_default_generation_params() as
_prepare_generation_config does). Lines:

    {"row": int, "vocab": int, "logits": [float|null], "ids": [int]}      # null = -inf
    {"case": str, "row": int, "config": {...},                            # the generation_config keys
     "processors": [str],                                                  # class names, in order
     "kept": [int],        # ids whose processed score is finite (every other id is -inf)
     "scores": [float],    # processed scores at kept (float32, shortest repr)
     "probs": [float]}     # softmax(processed scores) at kept (all other probabilities are 0)

sort.jsonl: torch.sort(row, descending=False) of tie-heavy float32 rows (small integers, some
-inf), whose order among equal values (torch's CPU sort is not stable) decides top-p at a tie:

    {"n": int, "values": [float|null], "indices": [int]}

stop_strings.jsonl: StopStringCriteria(tokenizer, stop_strings) of the tokenizer folder
testdata/tokenizer/qwen3vl, called on every prefix of an id sequence:

    {"name": str, "stop_strings": [str], "ids": [int], "prompt_len": int,
     "stop": [bool]}       # stop[i]: criteria(ids[:prompt_len+i+1]) (one per generated id)

Deterministic; refuses other versions than the pinned ones.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, GenerationConfig
from transformers.generation.stopping_criteria import StopStringCriteria
from transformers.generation.utils import GenerationMixin

PINNED = {"transformers": "5.24.0", "torch": "2.14.1"}
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "testdata" / "generate"


def check_versions():
    got = {"transformers": transformers.__version__, "torch": torch.__version__.split("+")[0]}
    if got != PINNED:
        sys.exit(f"logits_goldens.py: want {PINNED}, have {got}")


def f32(x) -> float | None:
    """A float32 as a JSON number (shortest repr that round-trips float32), -inf as None."""
    x = np.float32(x)
    if np.isneginf(x):
        return None
    if not np.isfinite(x):
        raise ValueError(f"unexpected {x}")
    return float(np.format_float_positional(x, unique=True, trim="-")) if x != 0 else 0.0


def f32s(xs) -> str:
    return "[" + ",".join(
        "null" if np.isneginf(x) else np.format_float_positional(np.float32(x), unique=True, trim="-")
        for x in xs) + "]"


def make_row(rng: np.random.Generator, vocab: int, kind: str) -> np.ndarray:
    if kind == "plain":
        x = rng.standard_normal(vocab) * 3.0
    elif kind == "peaked":
        x = rng.standard_normal(vocab) * 2.0
        x[rng.integers(vocab, size=5)] += rng.uniform(8, 14, size=5)
    elif kind == "large":
        x = rng.standard_normal(vocab) * 3000.0
    elif kind == "flat":
        x = rng.standard_normal(vocab) * 0.05
    else:
        raise ValueError(kind)
    x = x.astype(np.float32)
    # Round to 3 significant decimals so that the JSON stays small; still float32 values.
    x = np.array([float(f"{v:.4g}") for v in x], dtype=np.float32)
    # Ties: copy some values, including the largest ones (top-k / top-p boundaries).
    order = np.argsort(-x, kind="stable")
    for r in range(0, 40, 3):
        j = rng.integers(vocab)
        x[j] = x[order[r]]
    for _ in range(vocab // 20):
        x[rng.integers(vocab)] = x[rng.integers(vocab)]
    # -inf entries (not all).
    for j in rng.integers(vocab, size=max(3, vocab // 100)):
        if j != order[0]:
            x[j] = -np.inf
    return x


def processors_for(config: dict, prompt_len: int):
    gc = GenerationConfig(**config)
    gc.update(**GenerationConfig._get_default_generation_params(), defaults_only=True)
    dummy = types.SimpleNamespace(
        config=types.SimpleNamespace(is_encoder_decoder=False),
        _merge_criteria_processor_list=lambda default, custom: GenerationMixin._merge_criteria_processor_list(
            dummy, default, custom),
    )
    return GenerationMixin._get_logits_processor(dummy, generation_config=gc, input_ids_seq_length=prompt_len,
                                                 device="cpu", model_kwargs={})


SMALL_GRID = (
    # each processor alone (do_sample for the warpers)
    [{"repetition_penalty": p} for p in (1.05, 1.3, 0.8)]
    + [{"do_sample": True, "top_k": 0, "temperature": t} for t in (0.7, 1.3, 0.05)]
    + [{"do_sample": True, "top_k": k} for k in (1, 5, 20, 50)]
    + [{"do_sample": True, "top_k": 0, "top_p": p} for p in (0.1, 0.5, 0.8, 0.95, 0.999)]
    + [{"do_sample": True, "top_k": 0, "min_p": m} for m in (0.0, 0.05, 0.2, 0.9)]
    # as generate builds them from a generation_config.json
    + [{"do_sample": True}]  # top_k 50 from the defaults
    + [{"do_sample": True, "top_k": 20, "top_p": 0.8, "temperature": 0.7, "repetition_penalty": r, "min_p": m}
       for r in (1.0, 1.05) for m in (None, 0.0, 0.05)]
    + [{"do_sample": True, "top_k": 20, "top_p": 0.95, "temperature": 0.6, "repetition_penalty": 1.1}]
    + [{"do_sample": True, "top_k": 0, "top_p": 0.9, "temperature": 1.5, "min_p": 0.1}]
    + [{"do_sample": False, "top_k": 20, "top_p": 0.8, "temperature": 0.7, "repetition_penalty": 1.05}]
)
LARGE_GRID = [
    {"do_sample": True, "top_k": 20, "top_p": 0.8, "temperature": 0.7, "repetition_penalty": 1.05},
    {"do_sample": True, "top_k": 20, "top_p": 0.8, "temperature": 0.7, "repetition_penalty": 1.0, "min_p": 0.05},
    {"do_sample": True, "top_k": 50},
]


def name_of(cfg: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in cfg.items()) or "defaults"


def write_processors():
    rng = np.random.default_rng(20261203)
    rows = []
    kinds = ["plain", "peaked", "large", "flat"]
    for i in range(8):
        rows.append((1000, kinds[i % 4]))
    rows += [(151936, "plain"), (151936, "peaked")]
    lines = []
    cases = 0
    for r, (vocab, kind) in enumerate(rows):
        x = make_row(rng, vocab, kind)
        n_ids = int(rng.integers(0, 60))
        ids = rng.integers(0, vocab, size=n_ids)
        if n_ids > 10:  # repeats, and some ids at -inf or at the top
            ids[:3] = ids[3:6]
            ids[6] = int(np.argmax(x))
            ids[7] = int(np.flatnonzero(np.isneginf(x))[0])
        ids = [int(v) for v in ids]
        lines.append(f'{{"row": {r}, "vocab": {vocab}, "kind": "{kind}", "logits": {f32s(x)}, "ids": {json.dumps(ids)}}}')
        grid = SMALL_GRID if vocab == 1000 else LARGE_GRID
        for cfg in grid:
            procs = processors_for(cfg, prompt_len=max(1, n_ids))
            input_ids = torch.tensor([ids if ids else [0]], dtype=torch.long)
            if not ids:  # no previous ids: nothing to penalise, so only warpers
                procs = [p for p in procs if type(p).__name__ != "RepetitionPenaltyLogitsProcessor"]
            scores = torch.from_numpy(x.copy()).unsqueeze(0)
            for p in procs:
                scores = p(input_ids, scores)
            probs = torch.softmax(scores, dim=-1)
            s = scores[0].numpy()
            pr = probs[0].numpy()
            kept = np.flatnonzero(~np.isneginf(s))
            if np.any(pr[np.isneginf(s)] != 0):
                raise AssertionError("nonzero probability at -inf")
            cfg_json = {k: v for k, v in cfg.items()}
            lines.append(
                f'{{"case": {json.dumps(name_of(cfg))}, "row": {r}, "config": {json.dumps(cfg_json)}, '
                f'"processors": {json.dumps([type(p).__name__ for p in procs])}, '
                f'"kept": {json.dumps([int(k) for k in kept])}, "scores": {f32s(s[kept])}, '
                f'"probs": {f32s(pr[kept])}}}')
            cases += 1
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "processors.jsonl").write_text("\n".join(lines) + "\n")
    print(f"processors.jsonl: {len(rows)} rows, {cases} cases")


STOP_CASES = [
    # (name, stop strings, prompt text, generated text); ids are the tokenizer's encoding of each text.
    ("single-token", ["Texas"], "List states:", " Alaska, Texas, California"),
    ("spanning", ["stop here"], "", "We will stop here and go on"),
    ("overhang", ["sto"], "", " stopped, stop"),
    ("in-prompt-only", ["Hello"], "Hello there", " friend. Bye"),
    ("across-prompt", ["there friend"], "Hello there", " friend. Bye"),
    ("multibyte", ["界"], "", "你好，世界！再见世界"),
    ("emoji", ["🎉!"], "", "Party 🎉! time 🎉!"),
    ("special", ["<|im_end|>"], "", "Done.<|im_end|>\nMore"),
    ("newline", ["\n\n"], "", "one\ntwo\n\nthree"),
    ("several", ["Observation:", "END", "xyz"], "", "Thought: go\nObservation: done END"),
    ("no-match", ["zzz"], "", "nothing to see here"),
]


def write_stop_strings():
    tok = AutoTokenizer.from_pretrained(str(ROOT / "testdata" / "tokenizer" / "qwen3vl"))
    lines = []
    for name, stops, prompt, gen in STOP_CASES:
        p = tok(prompt, add_special_tokens=False)["input_ids"] if prompt else []
        g = tok(gen, add_special_tokens=False)["input_ids"]
        ids = p + g
        crit = StopStringCriteria(tok, stops)
        stop = []
        for i in range(len(g)):
            seq = torch.tensor([ids[: len(p) + i + 1]], dtype=torch.long)
            stop.append(bool(crit(seq, torch.zeros(1, 1))[0]))
        lines.append(json.dumps({"name": name, "stop_strings": stops, "ids": ids, "prompt_len": len(p),
                                 "stop": stop}, ensure_ascii=False))
    (OUT / "stop_strings.jsonl").write_text("\n".join(lines) + "\n")
    print(f"stop_strings.jsonl: {len(lines)} cases")


def write_sort():
    rng = np.random.default_rng(7)
    lines = []
    for n, k in ((5, 2), (16, 3), (17, 3), (33, 2), (100, 5), (1000, 7), (1000, 1000), (20000, 50), (151936, 4)):
        v = rng.integers(0, k, size=n).astype(np.float32)
        v[rng.integers(n, size=max(1, n // 50))] = -np.inf
        _, idx = torch.sort(torch.from_numpy(v), descending=False)
        lines.append(f'{{"n": {n}, "values": {f32s(v)}, "indices": {json.dumps(idx.tolist())}}}')
    (OUT / "sort.jsonl").write_text("\n".join(lines) + "\n")
    print(f"sort.jsonl: {len(lines)} rows")


if __name__ == "__main__":
    check_versions()
    torch.set_num_threads(1)
    write_processors()
    write_sort()
    write_stop_strings()
