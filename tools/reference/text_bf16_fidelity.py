#!/usr/bin/env python3
"""HF's own bfloat16 error in the text decoder, the bound of our `-compute bf16` decoder.

For each case of a text golden family (testdata/text/<family>, made by text_goldens.py), the
random decoder of that family (the same synthetic weights) is run on the reference's own inputs
stored in the golden (inputs_embeds with the visual rows scattered, the MRoPE positions, the
visual mask and the DeepStack rows), once in float32 and once with the whole model cast to
bfloat16 (`model.to(torch.bfloat16)`, inputs cast too: what a user of HF in bfloat16 runs),
and the prompt positions' logits on the golden's vocabulary subset are compared with the
golden's float32 logits: max|Δ| / max|ref| and 1 − cosine over all those logits. The float32
run must reproduce the golden's logits (checked) so the inputs are the ones the golden saw.

Output: testdata/text/<family>/bf16_vs_f32.json (per case). Go's TestGoldenDecoderBF16 holds
our bf16-compute decoder to these numbers.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/text_bf16_fidelity.py --family tiny
    tools/reference/.venv/bin/python tools/reference/text_bf16_fidelity.py --family tiny-moe
    tools/reference/.venv/bin/python tools/reference/text_bf16_fidelity.py --family 2b-short
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402

import text_goldens as tg  # noqa: E402

GENERATOR = "tools/reference/text_bf16_fidelity.py"


def read(path: Path) -> dict:
    out = {}
    with safe_open(str(path), "pt") as f:
        for k in f.keys():
            out[k] = f.get_tensor(k)
    return out


def embeds(model, g: dict) -> torch.Tensor:
    """inputs_embeds as the golden test rebuilds them (goldenEmbeds in text/golden_test.go)."""
    if "inputs_embeds" in g:
        return g["inputs_embeds"]
    ids = g["input_ids"]
    with torch.no_grad():
        e = model.model.language_model.embed_tokens(ids[None])[0].clone()
    if "inputs_embeds.visual" in g:
        mask = g["visual_pos_mask"].bool()
        e[mask] = g["inputs_embeds.visual"].to(e.dtype)
    return e


def forward(model, g: dict, dtype) -> torch.Tensor:
    lm = model.model.language_model
    emb = embeds(model, g).to(dtype)
    n = emb.shape[0]
    pos = g["position_ids"].view(3, 1, n)
    kw = {}
    if "visual_pos_mask" in g:
        kw["visual_pos_masks"] = g["visual_pos_mask"].bool()[None]
        ds = []
        k = 0
        while f"deepstack.{k}" in g:
            ds.append(g[f"deepstack.{k}"].to(dtype))
            k += 1
        kw["deepstack_visual_embeds"] = ds
    with torch.no_grad():
        out = lm(inputs_embeds=emb[None], position_ids=pos, attention_mask=torch.ones(1, n, dtype=torch.int64), use_cache=False, **kw)
        return model.lm_head(out.last_hidden_state)[0].float()  # [n, V]


def compare(got: torch.Tensor, ref: torch.Tensor) -> dict:
    g, r = got.double().flatten(), ref.double().flatten()
    rel = ((g - r).abs().max() / r.abs().max()).item()
    cos = torch.nn.functional.cosine_similarity(g, r, dim=0).item()
    return {"rel_max": float(f"{rel:.4g}"), "one_minus_cos": float(f"{1 - cos:.4g}")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="tiny", choices=sorted(tg.FAMILIES))
    args = ap.parse_args()
    tg.mg.check_versions()
    torch.set_num_threads(tg.THREADS)
    fam = tg.FAMILIES[args.family]
    folder = tg.OUT / args.family
    cases = json.loads((folder / "cases.json").read_text())["cases"]
    cfg = tg.make_config(fam)
    model, _ = tg.build_model(cfg, tied=fam.get("tied", True), moe=fam.get("moe", False))
    bf = copy.deepcopy(model).to(torch.bfloat16)
    out = []
    for c in cases:
        g = read(folder / c["file"])
        n = c["prompt_length"]
        sub = g["subset_ids"]
        ref = g["logits_subset"][:n]
        f32 = forward(model, g, torch.float32)[:, sub]
        d = (f32 - ref).abs().max().item()
        scale = ref.abs().max().item()
        assert d <= 1e-5 * scale, f"{c['name']}: the float32 rerun differs from the golden by {d} (scale {scale})"
        b16 = forward(bf, g, torch.bfloat16)[:, sub]
        entry = {"name": c["name"], "rows": n, "f32_rerun_max_abs": d, "hf_bf16": compare(b16, ref)}
        tg.log(f"{args.family} {c['name']}: {entry}")
        out.append(entry)
    doc = {
        "generator": GENERATOR,
        "family": args.family,
        "versions": tg.mg.versions(),
        "torch_threads": tg.THREADS,
        "what": "HF bfloat16 (model.to(torch.bfloat16)) vs the golden float32 logits, prompt rows, vocabulary subset",
        "cases": out,
    }
    (folder / "bf16_vs_f32.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
