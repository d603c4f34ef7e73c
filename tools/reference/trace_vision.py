#!/usr/bin/env python3
"""Dump the pinned Hugging Face vision tower's intermediate tensors, named as vision.Trace names them.

For a layer-by-layer diff of the Go tower against transformers, with no patching of either:

    tools/reference/.venv/bin/python tools/reference/trace_vision.py \\
        --model testdata/golden/tiny-checkpoint \\
        --pixels testdata/golden/tiny-checkpoint.pixels.safetensors -o /tmp/hf-trace.safetensors
    go test ./vision -run TestTraceReference -trace-ref /tmp/hf-trace.safetensors -v

--model and --pixels are as for run_vision.py (whose loaders this script uses). The forward runs in
float32 (sdpa attention unless --attn says otherwise); forward hooks and pre-hooks on
transformers' own modules capture, for N patches and T = N/4 tokens:

    key                    shape    captured at
    patch_embed            [N, D]   patch_embed's output
    pos_embed              [N, D]   blocks[0]'s input (patch_embed + interpolated positions)
    blocks.B.ln1           [N, D]   blocks[B].norm1's output
    blocks.B.qkv           [N, 3D]  blocks[B].attn.qkv's output (before the rotary embedding)
    blocks.B.attn          [N, D]   blocks[B].attn.proj's input
    blocks.B.attn_out      [N, D]   blocks[B].norm2's input (the residual after attention)
    blocks.B.ln2           [N, D]   blocks[B].norm2's output
    blocks.B.mlp           [N, I]   blocks[B].mlp.linear_fc2's input (act(fc1(ln2)))
    blocks.B.layer_out     [N, D]   blocks[B]'s output
    deepstack.K            [T, O]   deepstack_merger_list[K]'s output
    merger                 [T, O]   merger's output (pooler_output)

plus int64 grid_thw. The metadata records the model and pixels paths (TestTraceReference reads
them) and the keys in forward order ("order", a JSON list).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_vision import load_pixels, load_vision_config, load_vision_weights  # noqa: E402


def register(model: Qwen3VLVisionModel, store: dict[str, torch.Tensor], order: list[str]) -> list:
    def keep(key: str, t: torch.Tensor):
        if key in store:
            raise RuntimeError(f"{key} captured twice")
        store[key] = t.detach().float().contiguous().clone()
        order.append(key)

    def out_hook(key):
        return lambda _m, _args, out: keep(key, out)

    def in_hook(key):
        return lambda _m, args: keep(key, args[0])

    hooks = [
        model.patch_embed.register_forward_hook(out_hook("patch_embed")),
        model.blocks[0].register_forward_pre_hook(in_hook("pos_embed")),
    ]
    for b, blk in enumerate(model.blocks):
        p = f"blocks.{b}."
        hooks += [
            blk.norm1.register_forward_hook(out_hook(p + "ln1")),
            blk.attn.qkv.register_forward_hook(out_hook(p + "qkv")),
            blk.attn.proj.register_forward_pre_hook(in_hook(p + "attn")),
            blk.norm2.register_forward_pre_hook(in_hook(p + "attn_out")),
            blk.norm2.register_forward_hook(out_hook(p + "ln2")),
            blk.mlp.linear_fc2.register_forward_pre_hook(in_hook(p + "mlp")),
            blk.register_forward_hook(out_hook(p + "layer_out")),
        ]
    for k, mg in enumerate(model.deepstack_merger_list):
        hooks.append(mg.register_forward_hook(out_hook(f"deepstack.{k}")))
    hooks.append(model.merger.register_forward_hook(out_hook("merger")))
    return hooks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--pixels", required=True, type=Path)
    ap.add_argument("-o", "--output", required=True, type=Path)
    ap.add_argument("--attn", default=None, help="attention implementation (default: transformers' default, sdpa)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    cfg = load_vision_config(args.model)
    kw = {"dtype": torch.float32}
    if args.attn:
        kw["attn_implementation"] = args.attn
    model = Qwen3VLVisionModel._from_config(cfg, **kw).eval()
    weights = load_vision_weights(args.model, set(model.state_dict().keys()))
    model.load_state_dict(weights, strict=True)
    pixels, grid = load_pixels(args.pixels)

    store: dict[str, torch.Tensor] = {}
    order: list[str] = []
    hooks = register(model, store, order)
    with torch.no_grad():
        out = model(hidden_states=pixels, grid_thw=grid)
    for h in hooks:
        h.remove()

    # The hooks saw what the model returned.
    assert torch.equal(store["merger"], out.pooler_output.float())
    assert torch.equal(store[f"blocks.{len(model.blocks) - 1}.layer_out"], out.last_hidden_state.float())
    for k, f in enumerate(out.deepstack_features):
        assert torch.equal(store[f"deepstack.{k}"], f.float())

    store["grid_thw"] = grid.contiguous()
    meta = {
        "model": str(args.model),
        "pixels": str(args.pixels),
        "attn_implementation": model.config._attn_implementation,
        "generator": "tools/reference/trace_vision.py",
        "order": json.dumps(order),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_file(store, str(args.output), metadata=meta)
    print(f"{args.output}: {len(order)} tensors ({model.config._attn_implementation}, float32)", file=sys.stderr)


if __name__ == "__main__":
    main()
