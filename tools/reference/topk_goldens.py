#!/usr/bin/env python3
"""torch.topk's order at ties, for Go's text.topK (the MoE router's expert choice).

torch.topk on a float32 CPU tensor is not stable: among equal values the order comes from
libstdc++'s nth_element / sort / partial_sort. This writes testdata/text/topk_ties.json: rows
with many exact ties (values from a small set, some NaN and ±inf), for row lengths and k on both
sides of torch's 64·k ≤ n switch to partial_sort, each with torch.topk(rows, k, dim=-1) of the
whole [rows, n] tensor (largest, sorted), as the router calls it.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/topk_goldens.py

Deterministic (numpy's default_rng(3)); a rerun gives the same file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_goldens as mg  # noqa: E402

OUT = HERE.parent.parent / "testdata" / "text" / "topk_ties.json"
SHAPES = [(2, 1), (3, 2), (4, 3), (5, 2), (8, 1), (8, 2), (8, 8), (16, 4), (17, 5), (60, 4), (64, 1), (64, 2),
          (65, 1), (128, 1), (128, 2), (128, 8), (129, 2), (200, 3), (256, 4), (512, 8)]
ROWS = 12


def main():
    mg.check_versions()
    torch.set_num_threads(2)
    rng = np.random.default_rng(3)
    groups = []
    for n, k in SHAPES:
        levels = np.array([0.125, 0.25, 0.5, 0.75], dtype=np.float32)
        rows = levels[rng.integers(0, len(levels), size=(ROWS, n))]
        rows[0] = 0.5  # all equal
        if n >= 4:
            rows[1, rng.integers(0, n, size=2)] = np.nan
            rows[2, rng.integers(0, n, size=2)] = np.inf
            rows[2, rng.integers(0, n, size=2)] = -np.inf
        t = torch.from_numpy(rows)
        idx = torch.topk(t, k, dim=-1).indices.tolist()
        enc = [[None if np.isnan(v) else ("inf" if v == np.inf else "-inf" if v == -np.inf else float(v)) for v in r] for r in rows]
        groups.append({"n": n, "k": k, "rows": enc, "indices": idx})
    doc = {
        "generator": "tools/reference/topk_goldens.py",
        "versions": mg.versions(),
        "note": "values: numbers, null for NaN, \"inf\"/\"-inf\"; indices: torch.topk(rows, k, dim=-1).indices",
        "groups": groups,
    }
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(groups)} groups)")


if __name__ == "__main__":
    main()
