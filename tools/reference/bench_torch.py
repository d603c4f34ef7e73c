#!/usr/bin/env python3
"""Time the Hugging Face Qwen3-VL vision tower in PyTorch, float32 on the CPU, with the same
configuration and output format as `qwen3vl bench`, so the two can be run side by side.

    tools/reference/.venv/bin/python tools/reference/bench_torch.py \
        --preset qwen3-vl-4b --grid 1,18,24 --runs 3 --threads 2 --attn sdpa

Prints a table row and a final JSON line with the fields of `qwen3vl bench`. Weights are the
module's own random initialisation (speed does not depend on them); inputs are random.
"""
import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers
from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLVisionConfig
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionModel

CONFIGS = Path(__file__).resolve().parent.parent.parent / "testdata" / "golden" / "configs"

PRESETS = {
    "qwen3-vl-2b": dict(depth=24, hidden_size=1024, intermediate_size=4096, out_hidden_size=2048, deepstack_visual_indexes=[5, 11, 17]),
    "qwen3-vl-4b": dict(depth=24, hidden_size=1024, intermediate_size=4096, out_hidden_size=2560, deepstack_visual_indexes=[5, 11, 17]),
    "qwen3-vl-8b": dict(depth=27, hidden_size=1152, intermediate_size=4304, out_hidden_size=4096, deepstack_visual_indexes=[8, 16, 24]),
    "qwen3-vl-32b": dict(depth=27, hidden_size=1152, intermediate_size=4304, out_hidden_size=5120, deepstack_visual_indexes=[8, 16, 24]),
    "qwen3-vl-30b-a3b": dict(depth=27, hidden_size=1152, intermediate_size=4304, out_hidden_size=2048, deepstack_visual_indexes=[8, 16, 24]),
    "qwen3-vl-235b-a22b": dict(depth=27, hidden_size=1152, intermediate_size=4304, out_hidden_size=4096, deepstack_visual_indexes=[8, 16, 24]),
}


def flops(cfg, t, h, w):
    """The same count as vision.FLOPs: every matmul and the attention products."""
    d, i, o = cfg.hidden_size, cfg.intermediate_size, cfg.out_hidden_size
    md = d * cfg.spatial_merge_size ** 2
    s = h * w
    n = t * s
    attn = t * s * s
    tokens = n * d // md
    per_block = 2 * n * d * 3 * d + 2 * n * d * d + 2 * n * d * i * 2 + 4 * attn * d
    mergers = (1 + len(cfg.deepstack_visual_indexes)) * (2 * tokens * md * md + 2 * tokens * md * o)
    patch_dim = cfg.in_channels * cfg.temporal_patch_size * cfg.patch_size ** 2
    return 2 * n * patch_dim * d + cfg.depth * per_block + mergers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="qwen3-vl-4b", choices=sorted(PRESETS))
    ap.add_argument("--grid", default="1,18,24", help="t,h,w (default: the 400x300 seed image)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                    help="the model's and the pixels' dtype (bfloat16: oneDNN's bf16 kernels where the CPU has them)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    t, h, w = (int(x) for x in args.grid.split(","))
    cfg = Qwen3VLVisionConfig(hidden_act="gelu_pytorch_tanh", num_heads=16, patch_size=16,
                              temporal_patch_size=2, spatial_merge_size=2, in_channels=3,
                              num_position_embeddings=2304, **PRESETS[args.preset])
    cfg._attn_implementation = args.attn
    start = time.perf_counter()
    model = Qwen3VLVisionModel._from_config(cfg, torch_dtype=getattr(torch, args.dtype)).eval()
    load_s = time.perf_counter() - start
    n = t * h * w
    pixels = (torch.rand(n, 1536, dtype=torch.float32) * 2 - 1).to(getattr(torch, args.dtype))
    grid = torch.tensor([[t, h, w]], dtype=torch.long)
    times = []
    with torch.no_grad():
        for i in range(args.runs + 1):  # the first is a warm-up
            t0 = time.perf_counter()
            model(pixels, grid_thw=grid)
            if i > 0:
                times.append(time.perf_counter() - t0)
    gflop = flops(cfg, t, h, w) / 1e9
    med = statistics.median(times)
    res = {
        "engine": f"pytorch-{torch.__version__}/transformers-{transformers.__version__}/{args.attn}/{args.dtype}",
        "model": f"random:{args.preset}", "grid": [t, h, w], "patches": n, "threads": args.threads,
        "runs": args.runs, "load_s": load_s, "median_s": med, "min_s": min(times), "max_s": max(times),
        "gflop": gflop, "gflops": gflop / med,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(f"{'model':<28} {'median s':>8} {'min s':>8} {'max s':>8} {'GFLOP':>8} {'GFLOP/s':>9} {'peak RSS':>10}")
    print(f"{res['model']:<28} {med:8.3f} {min(times):8.3f} {max(times):8.3f} {gflop:8.1f} {gflop / med:9.1f} {res['peak_rss_mib']:7.0f} MiB")
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
