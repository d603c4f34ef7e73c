#!/usr/bin/env python3
"""Goldens for the other models built on the Qwen3-VL vision tower (testdata/golden/family/).

In transformers 5.24.0 four model types use Qwen3VLVisionModel's tower: Qwen3.5
(Qwen3_5VisionModel), Qwen3.5-MoE (Qwen3_5MoeVisionModel), Qwen4-Exp (Qwen4ExpVisionModel), all
three without DeepStack, and Cohere's CohereCompass (CohereCompassVisionModel, with DeepStack).
Every output here comes from the family's own vision module, run in float32 on CPU with the
synthetic weights and inputs of synth.py (as make_goldens.py does for Qwen3-VL), never from the
Go code.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/family_goldens.py            # everything
    tools/reference/.venv/bin/python tools/reference/family_goldens.py --only tiny-qwen3.5-checkpoint

Outputs (testdata/golden/family/):
    configs/<config>.json         the bare vision config as the family's config class serialises it
    <case>.safetensors            reference outputs (float32) + grid_thw (int64)
    <family>-checkpoint/          a bf16 HF-format checkpoint (config.json in the released layout
                                  with the family's model_type and token ids, model.safetensors)
    <case>.pixels.safetensors     the inputs of a checkpoint case
    manifest.json                 cases, seeds, versions, bf16/eager precision context

Each checkpoint folder is also loaded with the family's ForConditionalGeneration.from_pretrained
(the regular HF entry point) and its vision outputs must equal the golden bit for bit; the
outputs of the families without DeepStack are checked to carry no deepstack_features.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers.initialization import no_init_weights  # noqa: E402
from transformers.models.cohere_compass import configuration_cohere_compass as cc_cfg  # noqa: E402
from transformers.models.cohere_compass import modeling_cohere_compass as cc_mod  # noqa: E402
from transformers.models.qwen3_5 import configuration_qwen3_5 as q35_cfg  # noqa: E402
from transformers.models.qwen3_5 import modeling_qwen3_5 as q35_mod  # noqa: E402
from transformers.models.qwen3_5_moe import configuration_qwen3_5_moe as q35m_cfg  # noqa: E402
from transformers.models.qwen3_5_moe import modeling_qwen3_5_moe as q35m_mod  # noqa: E402
from transformers.models.qwen4_exp import configuration_qwen4_exp as q4_cfg  # noqa: E402
from transformers.models.qwen4_exp import modeling_qwen4_exp as q4_mod  # noqa: E402

import make_goldens as mg  # noqa: E402
import synth  # noqa: E402

GENERATOR = "tools/reference/family_goldens.py"
OUT = mg.GOLDEN / "family"

# Tiny text configs: only there so that from_pretrained can build the full model; their weights
# are not stored (transformers initialises them, and warns, which is silenced).
_TINY_TEXT = dict(
    hidden_size=32,
    num_hidden_layers=2,
    layer_types=["linear_attention", "full_attention"],
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=16,
    linear_num_key_heads=2,
    linear_num_value_heads=2,
    linear_key_head_dim=8,
    linear_value_head_dim=8,
    vocab_size=256,
    rope_parameters={
        "rope_type": "default",
        "rope_theta": 10000000,
        "partial_rotary_factor": 0.5,
        "mrope_section": [2, 1, 1],
        "mrope_interleaved": True,
    },
)
_TINY_MOE = dict(_TINY_TEXT, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16, shared_expert_intermediate_size=16)
del _TINY_MOE["layer_types"]
_TINY_MOE["layer_types"] = ["linear_attention", "full_attention"]

# One entry per model type. token ids: the family's config class defaults (as the released
# configs carry them). vision_model_type: what released config.json files say inside
# vision_config (the Qwen3.5 ones say "qwen3_5", which transformers maps to "qwen3_5_vision").
FAMILIES = {
    "qwen3_5": dict(
        vision_config=q35_cfg.Qwen3_5VisionConfig,
        vision_model=q35_mod.Qwen3_5VisionModel,
        config=q35_cfg.Qwen3_5Config,
        text_config=q35_cfg.Qwen3_5TextConfig,
        full=q35_mod.Qwen3_5ForConditionalGeneration,
        text=dict(_TINY_TEXT, intermediate_size=64),
        deepstack=False,
        short="qwen3.5",
    ),
    "qwen3_5_moe": dict(
        vision_config=q35m_cfg.Qwen3_5MoeVisionConfig,
        vision_model=q35m_mod.Qwen3_5MoeVisionModel,
        config=q35m_cfg.Qwen3_5MoeConfig,
        text_config=q35m_cfg.Qwen3_5MoeTextConfig,
        full=q35m_mod.Qwen3_5MoeForConditionalGeneration,
        text=_TINY_MOE,
        deepstack=False,
        short="qwen3.5-moe",
    ),
    "qwen4_exp": dict(
        vision_config=q4_cfg.Qwen4ExpVisionConfig,
        vision_model=q4_mod.Qwen4ExpVisionModel,
        config=q4_cfg.Qwen4ExpConfig,
        text_config=q4_cfg.Qwen4ExpTextConfig,
        full=q4_mod.Qwen4ExpForConditionalGeneration,
        text=dict(
            _TINY_MOE,
            hc_count=2,
            hc_lowrank=8,
            ple_embed_dim=32,
            indexer_n_heads=2,
            indexer_kv_heads=1,
            indexer_head_dim=8,
            indexer_budget=8,
            indexer_compress_ratio=4,
        ),
        deepstack=False,
        short="qwen4-exp",
    ),
    "cohere_compass": dict(
        vision_config=cc_cfg.CohereCompassVisionConfig,
        vision_model=cc_mod.CohereCompassVisionModel,
        config=cc_cfg.CohereCompassConfig,
        text_config=cc_cfg.CohereCompassTextConfig,
        full=cc_mod.CohereCompassForConditionalGeneration,
        text=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            intermediate_size=64,
            vocab_size=256,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=0,
            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 10000.0}},
        ),
        deepstack=True,
        short="cohere-compass",
    ),
}

_TINY_VISION = {k: v for k, v in mg.CONFIGS["tiny"].items() if k != "deepstack_visual_indexes"}
# Vision configs: the tiny tower of make_goldens.py (DeepStack [1, 2] where the family has it)
# and the released shapes of vision/presets.go (values and sources cited there).
CONFIGS = {}
for _fam, _f in FAMILIES.items():
    CONFIGS[f"tiny-{_f['short']}"] = dict(
        family=_fam, vision=dict(_TINY_VISION, **({"deepstack_visual_indexes": [1, 2]} if _f["deepstack"] else {}))
    )
_RELEASED = dict(mg.COMMON, depth=27, hidden_size=1152, intermediate_size=4304, num_heads=16)
CONFIGS["qwen3.5-0.8b"] = dict(
    family="qwen3_5",
    vision=dict(mg.COMMON, depth=12, hidden_size=768, intermediate_size=3072, num_heads=12, out_hidden_size=1024),
)
CONFIGS["qwen3.5-27b"] = dict(family="qwen3_5", vision=dict(_RELEASED, out_hidden_size=5120))
CONFIGS["qwen3.5-35b-a3b"] = dict(family="qwen3_5_moe", vision=dict(_RELEASED, out_hidden_size=2048))

WEIGHTS_SEED = {
    "tiny-qwen3.5": 35,
    "tiny-qwen3.5-moe": 36,
    "tiny-qwen4-exp": 40,
    "tiny-cohere-compass": 50,
    "qwen3.5-0.8b": 8,
    "qwen3.5-27b": 27,
    "qwen3.5-35b-a3b": 335,
}
MIXED = [[1, 6, 4], [2, 4, 4], [1, 2, 2]]

CASES = []
for _i, (_fam, _f) in enumerate(FAMILIES.items()):
    _cfg = f"tiny-{_f['short']}"
    CASES.append(dict(name=f"{_cfg}-mixed", config=_cfg, pixels_seed=3500 + 10 * _i + 1, grids=MIXED))
    CASES.append(
        dict(
            name=f"{_cfg}-checkpoint",
            config=_cfg,
            checkpoint=f"{_cfg}-checkpoint",
            pixels_seed=3500 + 10 * _i + 2,
            grids=MIXED,
            weights_seed=WEIGHTS_SEED[_cfg] + 1000,
        )
    )
CASES.append(dict(name="qwen3.5-0.8b-seed", config="qwen3.5-0.8b", pixels_seed=800002, grids=[[1, 18, 24]]))
CASES.append(dict(name="qwen3.5-27b-seed", config="qwen3.5-27b", pixels_seed=27002, grids=[[1, 18, 24]]))
CASES.append(dict(name="qwen3.5-35b-a3b-seed", config="qwen3.5-35b-a3b", pixels_seed=35002, grids=[[1, 18, 24]]))
for _c in CASES:
    _c.setdefault("weights_seed", WEIGHTS_SEED[_c["config"]])
    _c["weights_dtype"] = "bfloat16" if "checkpoint" in _c else "float32"


def log(*a):
    print(*a, flush=True)


def family(cfg_name: str) -> dict:
    return FAMILIES[CONFIGS[cfg_name]["family"]]


def vision_config(cfg_name: str):
    return family(cfg_name)["vision_config"](**copy.deepcopy(CONFIGS[cfg_name]["vision"]))


def has_deepstack(cfg) -> bool:
    try:
        return len(cfg.deepstack_visual_indexes) > 0
    except AttributeError:
        return False


def config_dict(cfg, cfg_name: str) -> dict:
    d = json.loads(cfg.to_json_string())
    for k, v in CONFIGS[cfg_name]["vision"].items():
        assert d.get(k) == v, (cfg_name, k, d.get(k), v)
    fam = family(cfg_name)
    assert ("deepstack_visual_indexes" in d) == fam["deepstack"], (cfg_name, d)
    return dict(sorted(d.items()))


def build_model(cfg_name: str, dtype=torch.float32, attn=None):
    kw = {"dtype": dtype}
    if attn is not None:
        kw["attn_implementation"] = attn
    cls = family(cfg_name)["vision_model"]
    with no_init_weights():
        model = cls._from_config(vision_config(cfg_name), **kw)
    assert type(model) is cls
    buffers = {n for n, _ in model.named_buffers()}
    assert buffers == {"rotary_pos_emb.inv_freq", "rotary_pos_emb.original_inv_freq"}, buffers
    fam = family(cfg_name)
    assert hasattr(model, "deepstack_merger_list") == fam["deepstack"], cfg_name
    return model.eval()


def synthetic_weights(cfg_name: str, seed: int) -> dict:
    model = build_model(cfg_name)
    sd = model.state_dict()
    assert set(sd) == {n for n, _ in model.named_parameters()}
    assert not any(k.startswith("deepstack") for k in sd) or family(cfg_name)["deepstack"]
    return synth.tower_weights({k: tuple(v.shape) for k, v in sd.items()}, seed)


def run(model, pixels, grid) -> dict:
    with torch.no_grad():
        out = model(hidden_states=pixels.to(model.dtype), grid_thw=grid)
    res = {"pooler_output": out.pooler_output, "last_hidden_state": out.last_hidden_state}
    ds = getattr(out, "deepstack_features", None)
    for i, f in enumerate(ds or []):
        res[f"deepstack_features.{i}"] = f
    return {k: v.detach().float().contiguous() for k, v in res.items()}, ds is not None


def check_outputs(res: dict, has_ds_field: bool, cfg_name: str, grids):
    cfg = vision_config(cfg_name)
    n = mg.num_patches(grids)
    assert res["last_hidden_state"].shape == (n, cfg.hidden_size)
    assert res["pooler_output"].shape == (n // 4, cfg.out_hidden_size)
    k = len(cfg.deepstack_visual_indexes) if has_deepstack(cfg) else 0
    # Families without DeepStack return BaseModelOutputWithPooling: no deepstack_features at all.
    assert has_ds_field == family(cfg_name)["deepstack"], (cfg_name, has_ds_field)
    assert sorted(x for x in res if x.startswith("deepstack")) == [f"deepstack_features.{i}" for i in range(k)]
    for name, t in res.items():
        assert torch.isfinite(t).all(), name
        assert t.abs().max() > 0, name


def checkpoint_config_json(cfg_name: str) -> dict:
    """config.json in the layout of a released checkpoint of the family: the Qwen3.5 ones
    (e.g. Qwen3.5-9B) carry vision_config.model_type "qwen3_5" and "deepstack_visual_indexes": []
    and rope_parameters in the text config."""
    fam_name = CONFIGS[cfg_name]["family"]
    fam = FAMILIES[fam_name]
    vc = CONFIGS[cfg_name]["vision"]
    vision = {
        "deepstack_visual_indexes": list(vc.get("deepstack_visual_indexes", [])),
        "depth": vc["depth"],
        "hidden_act": vc["hidden_act"],
        "hidden_size": vc["hidden_size"],
        "in_channels": vc["in_channels"],
        "initializer_range": 0.02,
        "intermediate_size": vc["intermediate_size"],
        "model_type": fam_name,
        "num_heads": vc["num_heads"],
        "num_position_embeddings": vc["num_position_embeddings"],
        "out_hidden_size": vc["out_hidden_size"],
        "patch_size": vc["patch_size"],
        "spatial_merge_size": vc["spatial_merge_size"],
        "temporal_patch_size": vc["temporal_patch_size"],
    }
    tc = fam["text_config"](**copy.deepcopy(fam["text"]))
    text = json.loads(tc.to_json_string())
    text.pop("transformers_version", None)
    defaults = fam["config"]()
    return {
        "architectures": [fam["full"].__name__],
        "image_token_id": defaults.image_token_id,
        "model_type": fam_name,
        "text_config": dict(sorted(text.items())),
        "tie_word_embeddings": False,
        "transformers_version": "5.24.0",
        "video_token_id": defaults.video_token_id,
        "vision_config": vision,
        "vision_end_token_id": defaults.vision_end_token_id,
        "vision_start_token_id": defaults.vision_start_token_id,
    }


def write_checkpoint(folder: Path, cfg_name: str, weights_f32: dict) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    mg.write_json(folder / "config.json", checkpoint_config_json(cfg_name))
    tensors = {"model.visual." + k: torch.from_numpy(v).to(torch.bfloat16) for k, v in weights_f32.items()}
    mg.write_safetensors(folder / "model.safetensors", tensors, {"format": "pt"})
    back = load_file(str(folder / "model.safetensors"))
    on_disk = {k[len("model.visual.") :]: v for k, v in back.items()}
    assert set(on_disk) == set(weights_f32)
    return on_disk


def check_from_pretrained(folder: Path, cfg_name: str, pixels, grid, golden: dict):
    from transformers.utils import logging as hf_logging

    fam = family(cfg_name)
    cfg = fam["config"].from_pretrained(str(folder))
    assert cfg.vision_config.model_type == fam["vision_config"].model_type, cfg.vision_config.model_type
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the text model's missing weights are expected
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = fam["full"].from_pretrained(str(folder), dtype=torch.float32).eval()
    finally:
        hf_logging.set_verbosity(verbosity)
    vis = full.model.visual
    assert type(vis) is fam["vision_model"], type(vis)
    res, _ = run(vis, pixels, grid)
    assert set(res) == set(golden), (set(res), set(golden))
    for k, v in golden.items():
        if not torch.equal(res[k], v):
            raise AssertionError(f"{folder.name}: from_pretrained output {k} differs by {(res[k] - v).abs().max().item()}")


_weights_cache: dict = {}


def get_weights(cfg_name: str, seed: int) -> dict:
    key = (cfg_name, seed)
    if key not in _weights_cache:
        _weights_cache.clear()
        _weights_cache[key] = synthetic_weights(cfg_name, seed)
    return _weights_cache[key]


def make_case(case: dict) -> dict:
    name, cfg_name, grids = case["name"], case["config"], case["grids"]
    n = mg.num_patches(grids)
    t0 = time.time()
    log(f"[{name}] config {cfg_name}, grids {grids}, N={n}")
    weights = get_weights(cfg_name, case["weights_seed"])
    pixels = torch.from_numpy(synth.pixels(n, case["pixels_seed"]))
    grid = torch.tensor(grids, dtype=torch.int64)
    if "checkpoint" in case:
        ref_weights = {k: v.float() for k, v in write_checkpoint(OUT / case["checkpoint"], cfg_name, weights).items()}
        mg.write_safetensors(
            OUT / f"{name}.pixels.safetensors",
            {"pixel_values": pixels, "grid_thw": grid},
            {"case": name, "pixels_seed": str(case["pixels_seed"]), "generator": GENERATOR},
        )
    else:
        ref_weights = weights

    model = build_model(cfg_name)
    attn_impl = model.config._attn_implementation
    mg.load_weights(model, ref_weights)
    ref, has_ds = run(model, pixels, grid)
    again, _ = run(model, pixels, grid)
    for k in ref:
        assert torch.equal(ref[k], again[k]), f"{name}: forward not repeatable for {k}"
    check_outputs(ref, has_ds, cfg_name, grids)

    m16 = build_model(cfg_name, dtype=torch.bfloat16)
    mg.load_weights(m16, ref_weights, torch.bfloat16)
    bf16 = mg.compare(run(m16, pixels, grid)[0], ref)
    del m16
    eager_vs_sdpa = None
    if attn_impl != "eager":
        me = build_model(cfg_name, attn="eager")
        mg.load_weights(me, ref_weights)
        eager_vs_sdpa = mg.compare(run(me, pixels, grid)[0], ref)
        del me
    if "checkpoint" in case:
        check_from_pretrained(OUT / case["checkpoint"], cfg_name, pixels, grid, ref)

    cfg = vision_config(cfg_name)
    meta = {
        "case": name,
        "config": cfg_name,
        "family": CONFIGS[cfg_name]["family"],
        "config_json": json.dumps(config_dict(cfg, cfg_name), sort_keys=True),
        "weights_seed": str(case["weights_seed"]),
        "pixels_seed": str(case["pixels_seed"]),
        "weights_dtype": case["weights_dtype"],
        "grids": json.dumps(grids),
        "attn_implementation": attn_impl,
        "deepstack_features_field": str(has_ds),
        "generator": GENERATOR,
        "versions": json.dumps(mg.versions(), sort_keys=True),
    }
    entry = {"name": name}
    if "checkpoint" in case:
        meta["checkpoint"] = case["checkpoint"]
        meta["pixels"] = f"{name}.pixels.safetensors"
        entry["checkpoint"] = case["checkpoint"]
        entry["pixels"] = f"{name}.pixels.safetensors"
    tensors = dict(ref)
    tensors["grid_thw"] = grid
    mg.write_safetensors(OUT / f"{name}.safetensors", tensors, meta)
    log(f"  {time.time() - t0:.1f}s; pooler bf16 rel_max {bf16['pooler_output']['rel_max']}")
    entry.update(
        {
            "config": cfg_name,
            "family": CONFIGS[cfg_name]["family"],
            "model": family(cfg_name)["vision_model"].__name__,
            "weights_seed": case["weights_seed"],
            "pixels_seed": case["pixels_seed"],
            "weights_dtype": case["weights_dtype"],
            "grids": grids,
            "num_patches": n,
            "file": f"{name}.safetensors",
            "outputs": {k: list(v.shape) for k, v in tensors.items()},
            "deepstack_features_field": has_ds,
            "bf16_vs_f32": bf16,
            "eager_vs_sdpa": eager_vs_sdpa,
            "attn_implementation": attn_impl,
        }
    )
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", metavar="CASE")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print(c["name"], c["config"], c["grids"])
        return
    mg.check_versions()
    synth.self_test()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    names = [c["name"] for c in CASES]
    only = args.only or names
    for o in only:
        if o not in names:
            raise SystemExit(f"unknown case {o!r}; cases: {', '.join(names)}")
    t0 = time.time()
    configs = {}
    for cfg_name in CONFIGS:
        mg.write_json(OUT / "configs" / f"{cfg_name}.json", config_dict(vision_config(cfg_name), cfg_name))
        configs[cfg_name] = {"file": f"configs/{cfg_name}.json", "family": CONFIGS[cfg_name]["family"]}
    manifest_path = OUT / "manifest.json"
    old = {}
    if args.only and manifest_path.exists():
        old = {c["name"]: c for c in json.loads(manifest_path.read_text())["cases"]}
    entries = {}
    for c in CASES:
        if c["name"] in only:
            entries[c["name"]] = make_case(c)
        elif c["name"] in old:
            entries[c["name"]] = old[c["name"]]
    manifest = {
        "generator": GENERATOR,
        "versions": mg.versions(),
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "families": {
            k: {"vision_model": f["vision_model"].__name__, "config": f["config"].__name__, "deepstack": f["deepstack"]}
            for k, f in FAMILIES.items()
        },
        "configs": configs,
        "synth": "as testdata/golden/manifest.json (tools/reference/synth.py)",
        "cases": [entries[n] for n in names if n in entries],
    }
    mg.write_json(manifest_path, manifest)
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
