#!/usr/bin/env python3
"""Golden for the position-table interpolation alone: the gather indices and weights the pinned
transformers computes (vision_utils.get_vision_interpolation_indices_and_weights, bilinear,
align_corners=True, spatial-merge order), so Go can compare them bitwise.

    tools/reference/.venv/bin/python tools/reference/interp_goldens.py

writes testdata/golden/interp.safetensors: for case k, `k.grid` (int64 [t, h, w, side]),
`k.indices` (int64 [t·h·w, 4]) and `k.weights` (float32 [t·h·w, 4]).
"""
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers.vision_utils import get_vision_interpolation_indices_and_weights

OUT = Path(__file__).resolve().parent.parent.parent / "testdata" / "golden" / "interp.safetensors"
CASES = [  # (t, h, w, side)
    (1, 2, 2, 48), (1, 4, 6, 48), (1, 18, 24, 48), (1, 14, 8, 6), (2, 4, 6, 6),
    (1, 40, 52, 48), (1, 2, 1000, 48), (1, 1000, 2, 48), (1, 250, 6, 48),
]


def main():
    tensors = {}
    for k, (t, h, w, side) in enumerate(CASES):
        idx, wts = get_vision_interpolation_indices_and_weights(
            torch.tensor([[t, h, w]]), num_grid_per_side=side, mode="bilinear",
            align_corners=True, spatial_merge_size=2)
        tensors[f"{k}.grid"] = torch.tensor([t, h, w, side], dtype=torch.int64)
        tensors[f"{k}.indices"] = idx.to(torch.int64).contiguous()
        tensors[f"{k}.weights"] = wts.to(torch.float32).contiguous()
    save_file(tensors, str(OUT), metadata={"generator": "tools/reference/interp_goldens.py",
                                            "transformers": __import__("transformers").__version__,
                                            "torch": torch.__version__})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
