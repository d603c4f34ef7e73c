#!/usr/bin/env python3
"""Run the pinned Hugging Face Qwen3-VL vision tower on any checkpoint, in float32.

A tool for checking the Go implementation against transformers on a real (or any) checkpoint:

    tools/reference/.venv/bin/python tools/reference/run_vision.py \\
        --model /path/to/Qwen3-VL-2B-Instruct --pixels in.safetensors -o hf.safetensors

--model DIR   a folder with config.json, either a full Qwen3-VL config (with "vision_config")
              or a bare vision config, and safetensors weights: model.safetensors, or shards
              listed by model.safetensors.index.json, or any *.safetensors in the folder.
              Vision tensors may be named model.visual.<name>, visual.<name> or <name>;
              everything else (the language model, lm_head, ...) is skipped.
--pixels P    a safetensors file with pixel_values [N, 1536] (any float dtype; converted to
              float32) and grid_thw [items, 3] (image_grid_thw / video_grid_thw also accepted).

Output (-o): float32 pooler_output [N/4, O], deepstack_features.<k> [N/4, O],
last_hidden_state [N, D], and int64 grid_thw: the same layout as testdata/golden/<case>.safetensors.
Weights stored in bf16 are converted to float32 exactly; the whole forward runs in float32
(--dtype bfloat16 runs it in bf16 instead, for precision studies).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLConfig, Qwen3VLVisionConfig
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionModel

PREFIXES = ("model.visual.", "visual.")


def load_vision_config(folder: Path) -> Qwen3VLVisionConfig:
    d = json.loads((folder / "config.json").read_text())
    if "vision_config" in d:
        return Qwen3VLConfig.from_dict(d).vision_config
    d = dict(d)
    if d.get("model_type") in (None, "qwen3_vl"):
        d["model_type"] = "qwen3_vl_vision"
    return Qwen3VLVisionConfig.from_dict(d)


def weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.exists():
        wm = json.loads(index.read_text())["weight_map"]
        return [folder / f for f in sorted(set(wm.values()))]
    single = folder / "model.safetensors"
    if single.exists():
        return [single]
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise SystemExit(f"no safetensors weights in {folder}")
    return files


def load_vision_weights(folder: Path, expected: set[str]) -> dict[str, torch.Tensor]:
    """Collect the vision tensors, whatever the prefix, as float32."""
    found: dict[str, dict[str, torch.Tensor]] = {p: {} for p in PREFIXES + ("",)}
    for f in weight_files(folder):
        with safe_open(str(f), framework="pt") as sf:
            for k in sf.keys():
                for p in PREFIXES:
                    if k.startswith(p):
                        found[p][k[len(p) :]] = sf.get_tensor(k)
                        break
                else:
                    if k in expected:
                        found[""][k] = sf.get_tensor(k)
    best = max(found, key=lambda p: len(found[p]))
    w = found[best]
    missing = expected - set(w)
    extra = set(w) - expected
    if missing or extra:
        raise SystemExit(
            f"vision weights under prefix {best!r} do not match the config: "
            f"missing {sorted(missing)[:8]}{'...' if len(missing) > 8 else ''}, unexpected {sorted(extra)[:8]}"
        )
    dtypes = sorted({str(v.dtype) for v in w.values()})
    print(f"loaded {len(w)} vision tensors (prefix {best!r}, stored as {', '.join(dtypes)})", file=sys.stderr)
    return {k: v.to(torch.float32) for k, v in w.items()}


def load_pixels(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    with safe_open(str(path), framework="pt") as sf:
        keys = set(sf.keys())
        pv_key = next((k for k in ("pixel_values", "pixel_values_videos") if k in keys), None)
        grid_key = next((k for k in ("grid_thw", "image_grid_thw", "video_grid_thw") if k in keys), None)
        if pv_key is None or grid_key is None:
            raise SystemExit(f"{path}: need pixel_values and grid_thw, found {sorted(keys)}")
        pv = sf.get_tensor(pv_key).to(torch.float32)
        grid = sf.get_tensor(grid_key).to(torch.int64)
    n = int((grid[:, 0] * grid[:, 1] * grid[:, 2]).sum())
    if pv.ndim != 2 or pv.shape[0] != n:
        raise SystemExit(f"pixel_values shape {tuple(pv.shape)} does not match grid_thw (N={n})")
    return pv, grid


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--pixels", required=True, type=Path)
    ap.add_argument("-o", "--output", required=True, type=Path)
    ap.add_argument("--attn", default=None, help="attention implementation (default: transformers' default, sdpa)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    cfg = load_vision_config(args.model)
    kw = {"dtype": dtype}
    if args.attn:
        kw["attn_implementation"] = args.attn
    model = Qwen3VLVisionModel._from_config(cfg, **kw).eval()
    weights = load_vision_weights(args.model, set(model.state_dict().keys()))
    model.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=True)
    pixels, grid = load_pixels(args.pixels)

    t = time.time()
    with torch.no_grad():
        out = model(hidden_states=pixels.to(dtype), grid_thw=grid)
    res = {
        "pooler_output": out.pooler_output,
        "last_hidden_state": out.last_hidden_state,
        **{f"deepstack_features.{i}": f for i, f in enumerate(out.deepstack_features)},
    }
    res = {k: v.float().contiguous() for k, v in res.items()}
    res["grid_thw"] = grid.contiguous()
    meta = {
        "model": str(args.model),
        "pixels": str(args.pixels),
        "dtype": args.dtype,
        "attn_implementation": model.config._attn_implementation,
        "generator": "tools/reference/run_vision.py",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_file(res, str(args.output), metadata=meta)
    shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in res.items())
    print(
        f"{args.output}: {shapes} ({model.config._attn_implementation}, {args.dtype}, forward {time.time() - t:.1f}s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
