#!/usr/bin/env python3
"""An independent float64 numpy forward of the Qwen3-VL vision tower, written from a plain
description of the forward pass (the functions below are that description, step by step)
without using transformers, and checked against the goldens that transformers produced.

It confirms that the description matches the pinned reference and that the goldens are
what they claim to be (synthetic weights regenerated from the seeds in manifest.json). Only the
tiny cases and the tiny checkpoint are checked by default (a full-size tower in float64 numpy is
slow); pass --all to include them.

    tools/reference/.venv/bin/python tools/reference/sheet_forward.py [--all] [--case NAME]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent.parent / "testdata" / "golden"
sys.path.insert(0, str(HERE))
import synth  # noqa: E402


def layer_norm(x, w, b, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_erf(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def linear(x, W, b):
    return x @ W.T + b


def merge_order(h, w, m=2):
    """(row, col) of each patch of an h x w grid in merge-window order."""
    rows, cols = [], []
    for br in range(h // m):
        for bc in range(w // m):
            for ir in range(m):
                for ic in range(m):
                    rows.append(br * m + ir)
                    cols.append(bc * m + ic)
    return np.array(rows), np.array(cols)


def pos_embed(table, side, h, w, bug=()):
    """Bilinear, align_corners=True sampling of the side x side table at an h x w grid (raster)."""
    T = table.reshape(side, side, -1)
    if "transpose_table" in bug:
        T = T.transpose(1, 0, 2)

    def axis(n):
        if "align_corners_false" in bug:
            src = np.array([max((i + 0.5) * side / n - 0.5, 0.0) for i in range(n)])
        else:
            src = np.array([i * (side - 1) / (n - 1) if n > 1 else 0.0 for i in range(n)])
        f = np.floor(src).astype(int)
        return f, np.minimum(f + 1, side - 1), src - f

    h0, h1, dh = axis(h)
    w0, w1, dw = axis(w)
    out = np.empty((h, w, T.shape[-1]))
    for r in range(h):
        for c in range(w):
            out[r, c] = (
                (1 - dh[r]) * (1 - dw[c]) * T[h0[r], w0[c]]
                + (1 - dh[r]) * dw[c] * T[h0[r], w1[c]]
                + dh[r] * (1 - dw[c]) * T[h1[r], w0[c]]
                + dh[r] * dw[c] * T[h1[r], w1[c]]
            )
    return out


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], -1)


def forward(W, cfg, pixels, grids, bug=()):
    """bug: names of deliberate mistakes (see BUGS) to show the goldens catch them."""
    D = cfg["hidden_size"]
    heads = cfg["num_heads"]
    hd = D // heads
    side = int(round(math.sqrt(cfg["num_position_embeddings"])))
    m = cfg["spatial_merge_size"]

    x = linear(pixels, W["patch_embed.proj.weight"].reshape(D, -1), W["patch_embed.proj.bias"])

    pos, rows, cols, segs = [], [], [], []
    for t, h, w in grids:
        r, c = merge_order(h, w, m)
        pe = pos_embed(W["pos_embed.weight"], side, h, w, bug)[r, c]
        for _ in range(t):
            pos.append(pe)
            rows.append(r)
            cols.append(c)
            segs.append(h * w)
    if "joint_attention" in bug:
        segs = [sum(segs)]
    x = x + np.concatenate(pos)
    rows, cols = np.concatenate(rows), np.concatenate(cols)

    theta = 10000.0
    inv = 1.0 / theta ** (np.arange(0, hd // 2, 2) / (hd // 2))
    if "rope_swap_rowcol" in bug:
        rows, cols = cols, rows
    ang = np.concatenate([rows[:, None] * inv, cols[:, None] * inv], -1)
    ang = np.concatenate([ang, ang], -1)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    act = gelu_tanh if "tanh_merger" in bug else gelu_erf
    deep = []
    N = x.shape[0]
    for i in range(cfg["depth"]):
        p = f"blocks.{i}."
        y = layer_norm(x, W[p + "norm1.weight"], W[p + "norm1.bias"])
        qkv = linear(y, W[p + "attn.qkv.weight"], W[p + "attn.qkv.bias"]).reshape(N, 3, heads, hd)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        o = np.empty_like(q)
        s0 = 0
        for L in segs:
            qs, ks, vs = q[s0 : s0 + L], k[s0 : s0 + L], v[s0 : s0 + L]
            sc = np.einsum("qhd,khd->hqk", qs, ks) / math.sqrt(hd)
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            o[s0 : s0 + L] = np.einsum("hqk,khd->qhd", sc, vs)
            s0 += L
        x = x + linear(o.reshape(N, D), W[p + "attn.proj.weight"], W[p + "attn.proj.bias"])
        y = layer_norm(x, W[p + "norm2.weight"], W[p + "norm2.bias"])
        y = linear(gelu_tanh(linear(y, W[p + "mlp.linear_fc1.weight"], W[p + "mlp.linear_fc1.bias"])),
                   W[p + "mlp.linear_fc2.weight"], W[p + "mlp.linear_fc2.bias"])
        x = x + y
        if i in cfg["deepstack_visual_indexes"]:
            j = cfg["deepstack_visual_indexes"].index(i)
            p2 = f"deepstack_merger_list.{j}."
            z = layer_norm(x.reshape(N // 4, 4 * D), W[p2 + "norm.weight"], W[p2 + "norm.bias"])
            z = linear(act(linear(z, W[p2 + "linear_fc1.weight"], W[p2 + "linear_fc1.bias"])),
                       W[p2 + "linear_fc2.weight"], W[p2 + "linear_fc2.bias"])
            deep.append(z)
    z = layer_norm(x, W["merger.norm.weight"], W["merger.norm.bias"]).reshape(N // 4, 4 * D)
    z = linear(act(linear(z, W["merger.linear_fc1.weight"], W["merger.linear_fc1.bias"])),
               W["merger.linear_fc2.weight"], W["merger.linear_fc2.bias"])
    out = {"pooler_output": z, "last_hidden_state": x}
    for j, d in enumerate(deep):
        out[f"deepstack_features.{j}"] = d
    return out


# Mistakes other engines made (listed in testdata/README.md); each must move some golden output by far
# more than the float32 noise (~1e-6 relative).
BUGS = ["align_corners_false", "transpose_table", "rope_swap_rowcol", "joint_attention", "tanh_merger"]
BUG_CASES = ["tiny-nonsquare", "tiny-mixed", "tiny-checkpoint"]
# 50x the float32 noise seen between this float64 forward and the float32 goldens. Note the tanh
# GELU in the mergers moves the outputs by only ~2e-4 relative with these synthetic weights
# (pre-activations are small, where the two GELUs nearly agree): a Go comparison tolerance
# must stay well below 1e-4 relative to catch it.
BUG_THRESHOLD = 5e-5


def tower_names(cfg):
    D, I, O = cfg["hidden_size"], cfg["intermediate_size"], cfg["out_hidden_size"]
    P = cfg["in_channels"] * cfg["temporal_patch_size"] * cfg["patch_size"] ** 2
    s = {
        "patch_embed.proj.weight": (D, cfg["in_channels"], cfg["temporal_patch_size"], cfg["patch_size"], cfg["patch_size"]),
        "patch_embed.proj.bias": (D,),
        "pos_embed.weight": (cfg["num_position_embeddings"], D),
    }
    assert P == 1536
    for i in range(cfg["depth"]):
        p = f"blocks.{i}."
        s.update({p + "norm1.weight": (D,), p + "norm1.bias": (D,), p + "norm2.weight": (D,), p + "norm2.bias": (D,),
                  p + "attn.qkv.weight": (3 * D, D), p + "attn.qkv.bias": (3 * D,),
                  p + "attn.proj.weight": (D, D), p + "attn.proj.bias": (D,),
                  p + "mlp.linear_fc1.weight": (I, D), p + "mlp.linear_fc1.bias": (I,),
                  p + "mlp.linear_fc2.weight": (D, I), p + "mlp.linear_fc2.bias": (D,)})
    s.update({"merger.norm.weight": (D,), "merger.norm.bias": (D,),
              "merger.linear_fc1.weight": (4 * D, 4 * D), "merger.linear_fc1.bias": (4 * D,),
              "merger.linear_fc2.weight": (O, 4 * D), "merger.linear_fc2.bias": (O,)})
    for j in range(len(cfg["deepstack_visual_indexes"])):
        p = f"deepstack_merger_list.{j}."
        s.update({p + "norm.weight": (4 * D,), p + "norm.bias": (4 * D,),
                  p + "linear_fc1.weight": (4 * D, 4 * D), p + "linear_fc1.bias": (4 * D,),
                  p + "linear_fc2.weight": (O, 4 * D), p + "linear_fc2.bias": (O,)})
    return s


def case_inputs(case, cfg):
    if "checkpoint" in case:
        folder = GOLDEN / case["checkpoint"]
        idx = json.loads((folder / "model.safetensors.index.json").read_text())
        W = {}
        import torch  # bf16 is not a numpy dtype
        from safetensors.torch import load_file as load_torch

        for f in sorted(set(idx["weight_map"].values())):
            for k, v in load_torch(str(folder / f)).items():
                if k.startswith("model.visual."):
                    W[k[len("model.visual."):]] = v.to(torch.float32).numpy().astype(np.float64)
        px = load_file(str(GOLDEN / case["pixels"]))
        return W, px["pixel_values"].astype(np.float64), px["grid_thw"].tolist()
    W = {k: v.astype(np.float64) for k, v in synth.tower_weights(tower_names(cfg), case["weights_seed"]).items()}
    n = sum(t * h * w for t, h, w in case["grids"])
    return W, synth.pixels(n, case["pixels_seed"]).astype(np.float64), case["grids"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="also the full-size cases (slow)")
    ap.add_argument("--case", action="append")
    ap.add_argument("--bugs", action="store_true", help="also check that known mistakes are caught")
    args = ap.parse_args()
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    worst = 0.0
    caught: dict = {}
    for case in manifest["cases"]:
        if args.case and case["name"] not in args.case:
            continue
        if not args.case and not args.all and case["config"] != "tiny":
            continue
        cfg = json.loads((GOLDEN / "configs" / f"{case['config']}.json").read_text())
        W, pixels, grids = case_inputs(case, cfg)
        gold = load_file(str(GOLDEN / case["file"]))
        assert gold["grid_thw"].tolist() == grids
        out = forward(W, cfg, pixels, grids)
        msgs = []
        for k, v in out.items():
            g = gold[k].astype(np.float64)
            assert g.shape == v.shape, (k, g.shape, v.shape)
            rel = np.abs(g - v).max() / np.abs(v).max()
            worst = max(worst, rel)
            msgs.append(f"{k} {rel:.2e}")
        assert set(out) == set(gold) - {"grid_thw"}
        print(f"{case['name']:18s} max|golden-sheet|/max|sheet|: " + ", ".join(msgs), flush=True)
        if args.bugs and case["name"] in BUG_CASES:
            for bug in BUGS:
                bad = forward(W, cfg, pixels, grids, bug=(bug,))
                rel = max(np.abs(gold[k] - bad[k]).max() / np.abs(bad[k]).max() for k in bad)
                print(f"    with bug {bug:20s}: max relative difference {rel:.2e}", flush=True)
                caught[bug] = max(caught.get(bug, 0.0), rel)
    print(f"worst relative difference {worst:.2e}")
    if worst > 1e-4:
        raise SystemExit("the goldens disagree with this independent forward")
    if args.bugs and caught:
        missed = [b for b in BUGS if caught.get(b, 0.0) < BUG_THRESHOLD]
        print("each mistake, largest relative change over the checked goldens: "
              + ", ".join(f"{b} {caught.get(b, 0.0):.1e}" for b in BUGS))
        if missed:
            raise SystemExit(f"mistakes not caught by any golden: {missed}")


if __name__ == "__main__":
    main()
