#!/usr/bin/env python3
"""Produce the golden fixtures under testdata/golden/ from the pinned Hugging Face transformers.

Every output here comes from transformers' own Qwen3VLVisionModel (never from the Go code), run
in float32 on CPU with synthetic weights and inputs from synth.py (bit-identical to Go's
internal/synth), so that Go can regenerate the same weights from a seed and compare.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/make_goldens.py            # everything
    tools/reference/.venv/bin/python tools/reference/make_goldens.py --only tiny-video

Outputs (testdata/golden/):
    configs/<config>.json                 bare Qwen3VLVisionConfig.to_dict() of each config
    <case>.safetensors                    reference outputs per case (float32) + grid_thw (int64)
    tiny-checkpoint/                      a sharded bf16 HF-format checkpoint of the tiny tower
    tiny-checkpoint.pixels.safetensors    its inputs (pixel_values, grid_thw)
    manifest.json                         cases, seeds, versions, bf16/eager precision context

The script is deterministic: running it twice gives identical files (it checks its own
forward passes for repeatability too). Timings go to stdout only.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GOLDEN = REPO / "testdata" / "golden"
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers.models.qwen3_vl.configuration_qwen3_vl import (  # noqa: E402
    Qwen3VLConfig,
    Qwen3VLVisionConfig,
)
from transformers.initialization import no_init_weights  # noqa: E402
from transformers.models.qwen3_vl.modeling_qwen3_vl import (  # noqa: E402
    Qwen3VLVisionModel,
    Qwen3VLVisionRotaryEmbedding,
)

import synth  # noqa: E402

GENERATOR = "tools/reference/make_goldens.py"
PINNED = {"transformers": "5.24.0", "torch": "2.14.1", "safetensors": "0.8.0", "numpy": "2.4.6"}

COMMON = dict(
    patch_size=16,
    temporal_patch_size=2,
    spatial_merge_size=2,
    in_channels=3,
    hidden_act="gelu_pytorch_tanh",
    num_position_embeddings=2304,
)
CONFIGS = {
    "tiny": dict(
        COMMON,
        depth=4,
        hidden_size=64,
        num_heads=4,
        intermediate_size=200,
        out_hidden_size=96,
        num_position_embeddings=36,
        deepstack_visual_indexes=[1, 2],
    ),
    "qwen3-vl-4b": dict(
        COMMON,
        depth=24,
        hidden_size=1024,
        intermediate_size=4096,
        num_heads=16,
        out_hidden_size=2560,
        deepstack_visual_indexes=[5, 11, 17],
    ),
    "qwen3-vl-8b": dict(
        COMMON,
        depth=27,
        hidden_size=1152,
        intermediate_size=4304,
        num_heads=16,
        out_hidden_size=4096,
        deepstack_visual_indexes=[8, 16, 24],
    ),
}

# Seeds: one weights seed per config (all cases of a config share the tower), one pixel seed per
# case. The checkpoint uses its own weights seed.
WEIGHTS_SEED = {"tiny": 1, "qwen3-vl-4b": 4, "qwen3-vl-8b": 8}
CHECKPOINT_WEIGHTS_SEED = 2

CASES = [
    dict(name="tiny-square", config="tiny", pixels_seed=1001, grids=[[1, 4, 4]]),
    dict(name="tiny-nonsquare", config="tiny", pixels_seed=1002, grids=[[1, 6, 10]]),
    dict(name="tiny-offtable", config="tiny", pixels_seed=1003, grids=[[1, 14, 8]]),
    dict(name="tiny-small", config="tiny", pixels_seed=1004, grids=[[1, 2, 2]]),
    dict(name="tiny-two-images", config="tiny", pixels_seed=1005, grids=[[1, 4, 6], [1, 8, 4]]),
    dict(name="tiny-video", config="tiny", pixels_seed=1006, grids=[[2, 4, 6]]),
    dict(name="tiny-mixed", config="tiny", pixels_seed=1007, grids=[[1, 6, 4], [2, 4, 4], [1, 2, 2]]),
    dict(name="4b-small", config="qwen3-vl-4b", pixels_seed=4001, grids=[[1, 4, 6]]),
    dict(name="4b-seed", config="qwen3-vl-4b", pixels_seed=4002, grids=[[1, 18, 24]]),
    dict(name="8b-small", config="qwen3-vl-8b", pixels_seed=8001, grids=[[1, 4, 6]]),
    dict(name="8b-seed", config="qwen3-vl-8b", pixels_seed=8002, grids=[[1, 18, 24]]),
    dict(
        name="tiny-checkpoint",
        config="tiny",
        checkpoint="tiny-checkpoint",
        pixels_seed=2001,
        grids=[[1, 6, 4], [2, 4, 4], [1, 2, 2]],
    ),
]
for _c in CASES:
    _c.setdefault("weights_seed", CHECKPOINT_WEIGHTS_SEED if "checkpoint" in _c else WEIGHTS_SEED[_c["config"]])
    _c["weights_dtype"] = "bfloat16" if "checkpoint" in _c else "float32"

# The tiny checkpoint's (fake, minimal) text config, in the layout of a released Qwen3-VL
# config.json (transformers 4.57 era: rope_theta / rope_scaling inside text_config). The released
# files also carry bos/eos token ids here; they are left out because they lie outside this
# 256-entry vocabulary (transformers warns). Only the vision tower of this checkpoint is real.
TINY_TEXT_CONFIG = {
    "attention_bias": False,
    "attention_dropout": 0.0,
    "dtype": "bfloat16",
    "head_dim": 16,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 262144,
    "model_type": "qwen3_vl_text",
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "num_key_value_heads": 1,
    "rms_norm_eps": 1e-06,
    "rope_scaling": {"mrope_interleaved": True, "mrope_section": [4, 2, 2], "rope_type": "default"},
    "rope_theta": 5000000,
    "tie_word_embeddings": True,
    "use_cache": True,
    "vocab_size": 256,
}
LM_TENSOR = "model.language_model.embed_tokens.weight"


def log(*a):
    print(*a, flush=True)


def versions() -> dict:
    return {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
    }


def check_versions():
    v = versions()
    bad = {k: (v[k], want) for k, want in PINNED.items() if v[k].split("+")[0] != want}
    if bad:
        raise SystemExit(f"unpinned reference versions (got, want): {bad}; use tools/reference/.venv")


def vision_config(name: str) -> Qwen3VLVisionConfig:
    return Qwen3VLVisionConfig(**copy.deepcopy(CONFIGS[name]))


def config_dict(cfg: Qwen3VLVisionConfig, name: str) -> dict:
    """The config as transformers serialises it (to_json_string: only the model's own fields),
    checked to hold every field we set."""
    d = json.loads(cfg.to_json_string())
    for k, v in CONFIGS[name].items():
        assert d.get(k) == v, (name, k, d.get(k), v)
    assert d["model_type"] == "qwen3_vl_vision"
    return dict(sorted(d.items()))


def num_patches(grids) -> int:
    return int(sum(t * h * w for t, h, w in grids))


# ---------------------------------------------------------------------------------------------
# model construction and weights
# ---------------------------------------------------------------------------------------------


def build_model(cfg: Qwen3VLVisionConfig, dtype=torch.float32, attn=None) -> Qwen3VLVisionModel:
    """Construct the tower the way from_pretrained would (default dtype set while building)."""
    kw = {"dtype": dtype}
    if attn is not None:
        kw["attn_implementation"] = attn
    # Every parameter is overwritten (load_state_dict strict, checked equal), so skip the random
    # init; the rotary inv_freq is computed in __init__ regardless (checked in check_rotary_buffer).
    with no_init_weights():
        model = Qwen3VLVisionModel._from_config(copy.deepcopy(cfg), **kw)
    check_rotary_buffer(model, cfg)
    return model.eval()


def check_no_persistent_buffers(model: Qwen3VLVisionModel):
    """The rotary inv_freq is a computed, non-persistent buffer: never in the state_dict."""
    sd_keys = set(model.state_dict().keys())
    assert not any("rotary" in k or "inv_freq" in k for k in sd_keys), "rotary buffer is persistent"
    buffers = {n for n, _ in model.named_buffers()}
    assert buffers == {"rotary_pos_emb.inv_freq", "rotary_pos_emb.original_inv_freq"}, buffers
    assert model.rotary_pos_emb.inv_freq.dtype == torch.float32, model.rotary_pos_emb.inv_freq.dtype


def check_rotary_buffer(model: Qwen3VLVisionModel, cfg: Qwen3VLVisionConfig):
    want = Qwen3VLVisionRotaryEmbedding(copy.deepcopy(cfg)).inv_freq
    got = model.rotary_pos_emb.inv_freq
    assert got.dtype == torch.float32 and torch.equal(got, want), (got, want)


def check_rotary(cfg: Qwen3VLVisionConfig) -> dict:
    """inv_freq as transformers computes it, against the correctly rounded float32 values."""
    inv = Qwen3VLVisionRotaryEmbedding(copy.deepcopy(cfg)).inv_freq
    assert inv.dtype == torch.float32, inv.dtype
    head_dim = cfg.hidden_size // cfg.num_heads
    half = head_dim // 2
    theta = cfg.rope_parameters["rope_theta"]
    exact = np.array([1.0 / theta ** (j / half) for j in range(0, half, 2)], dtype=np.float64)
    assert inv.shape == (head_dim // 4,), inv.shape
    # distance in float32 ulps from the correctly rounded float32 value
    a = inv.numpy().view(np.int32).astype(np.int64)
    b = exact.astype(np.float32).view(np.int32).astype(np.int64)
    # The recipe torch follows, spelled out for other implementations: float32 exponent j/half,
    # theta**exponent (correctly rounded to float32), then a float32 reciprocal.
    e = np.arange(0, half, 2, dtype=np.float32) / np.float32(half)
    recipe = np.float32(1.0) / np.power(np.float64(theta), e.astype(np.float64)).astype(np.float32)
    return {
        "head_dim": head_dim,
        "rope_theta": float(theta),
        "n_freq": int(inv.shape[0]),
        "inv_freq_max_ulp_vs_correctly_rounded": int(np.abs(a - b).max()),
        "inv_freq_equals_f32_exponent_recipe": bool(np.array_equal(inv.numpy().view(np.int32), recipe.view(np.int32))),
    }


def synthetic_weights(cfg: Qwen3VLVisionConfig, seed: int) -> dict:
    model = build_model(cfg, attn=None)
    sd = model.state_dict()
    params = {n for n, _ in model.named_parameters()}
    if set(sd) != params:
        raise RuntimeError(f"state_dict holds non-parameter tensors {sorted(set(sd) - params)}")
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    return synth.tower_weights(shapes, seed)  # raises on an uncovered tensor or unused rule


def load_weights(model: Qwen3VLVisionModel, weights: dict, dtype=torch.float32):
    sd = {k: torch.from_numpy(v).to(dtype) if isinstance(v, np.ndarray) else v.to(dtype) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(sd, strict=True)
    assert not missing and not unexpected
    # make sure the values really are what we loaded
    for k, v in model.state_dict().items():
        assert torch.equal(v, sd[k]), k


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------


def run(model: Qwen3VLVisionModel, pixels: torch.Tensor, grid: torch.Tensor) -> dict:
    with torch.no_grad():
        out = model(hidden_states=pixels.to(model.dtype), grid_thw=grid)
    res = {
        "pooler_output": out.pooler_output,
        "last_hidden_state": out.last_hidden_state,
    }
    for i, f in enumerate(out.deepstack_features):
        res[f"deepstack_features.{i}"] = f
    return {k: v.detach().float().contiguous() for k, v in res.items()}


def sig(x: float) -> float:
    return float(f"{x:.6g}")


def compare(a: dict, ref: dict) -> dict:
    out = {}
    for k in ref:
        r = ref[k].double()
        d = (a[k].double() - r).abs()
        max_abs = d.max().item()
        ref_max = r.abs().max().item()
        cos = torch.nn.functional.cosine_similarity(a[k].double().flatten(), r.flatten(), dim=0).item()
        out[k] = {"max_abs": sig(max_abs), "rel_max": sig(max_abs / ref_max), "cosine": sig(cos)}
    return out


def check_outputs(res: dict, cfg: Qwen3VLVisionConfig, grids):
    n = num_patches(grids)
    assert res["last_hidden_state"].shape == (n, cfg.hidden_size), res["last_hidden_state"].shape
    assert res["pooler_output"].shape == (n // 4, cfg.out_hidden_size)
    k = len(cfg.deepstack_visual_indexes)
    assert sorted(x for x in res if x.startswith("deepstack")) == [f"deepstack_features.{i}" for i in range(k)]
    for name, t in res.items():
        if name.startswith("deepstack"):
            assert t.shape == (n // 4, cfg.out_hidden_size), (name, t.shape)
        assert torch.isfinite(t).all(), f"non-finite values in {name}"
        assert t.abs().max() > 0, f"{name} is all zero"


_ST_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16", torch.float16: "F16", torch.int32: "I32"}


def write_safetensors(path: Path, tensors: dict, metadata: dict):
    """Write a safetensors file byte-deterministically.

    safetensors' own writer emits __metadata__ in Rust HashMap order, which changes from run to
    run; here the header is JSON with __metadata__ first and sorted keys, tensors ordered by
    alignment (8-byte dtypes first) then name, header padded with spaces to a multiple of 8. The
    file is read back with safetensors to check it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header: dict = {"__metadata__": dict(sorted(metadata.items()))} if metadata else {}
    blobs = []
    off = 0
    for name, t in items:
        t = t.detach().contiguous().cpu()
        raw = t.view(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode()
    hjson += b" " * (-len(hjson) % 8)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(len(hjson).to_bytes(8, "little"))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    os.chmod(tmp, 0o644)
    back = load_file(str(tmp))
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v.detach().cpu()), k
    with safetensors.safe_open(str(tmp), framework="pt") as sf:
        assert (sf.metadata() or {}) == (metadata or {})
    os.replace(tmp, path)


def write_json(path: Path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


# ---------------------------------------------------------------------------------------------
# the checkpoint folder
# ---------------------------------------------------------------------------------------------


def checkpoint_config_json(cfg_name: str) -> dict:
    """config.json in the layout of a released Qwen3-VL checkpoint (e.g. Qwen3-VL-2B/4B-Instruct)."""
    vc = CONFIGS[cfg_name]
    vision = {
        "deepstack_visual_indexes": list(vc["deepstack_visual_indexes"]),
        "depth": vc["depth"],
        "hidden_act": vc["hidden_act"],
        "hidden_size": vc["hidden_size"],
        "in_channels": vc["in_channels"],
        "initializer_range": 0.02,
        "intermediate_size": vc["intermediate_size"],
        # released checkpoints say "qwen3_vl" here; transformers rewrites it to "qwen3_vl_vision"
        "model_type": "qwen3_vl",
        "num_heads": vc["num_heads"],
        "num_position_embeddings": vc["num_position_embeddings"],
        "out_hidden_size": vc["out_hidden_size"],
        "patch_size": vc["patch_size"],
        "spatial_merge_size": vc["spatial_merge_size"],
        "temporal_patch_size": vc["temporal_patch_size"],
    }
    return {
        "architectures": ["Qwen3VLForConditionalGeneration"],
        "image_token_id": 151655,
        "model_type": "qwen3_vl",
        "text_config": copy.deepcopy(TINY_TEXT_CONFIG),
        "tie_word_embeddings": True,
        "transformers_version": "4.57.0.dev0",
        "video_token_id": 151656,
        "vision_config": vision,
        "vision_end_token_id": 151653,
        "vision_start_token_id": 151652,
    }


def shard_of(name: str) -> int:
    """Vision tensors are spread over shards 1 and 2 (interleaved, so a loader must use the index)."""
    if name.startswith(("pos_embed.", "merger.", "blocks.0.", "blocks.1.")):
        return 1
    return 2


def write_checkpoint(folder: Path, cfg_name: str, weights_f32: dict) -> dict:
    """Write the bf16 sharded checkpoint. Returns the on-disk vision weights as float32 tensors."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    cfg_json = checkpoint_config_json(cfg_name)
    write_json(folder / "config.json", cfg_json)
    shards = {1: {}, 2: {}, 3: {}}
    for name, arr in weights_f32.items():
        shards[shard_of(name)]["model.visual." + name] = torch.from_numpy(arr).to(torch.bfloat16)
    tc = cfg_json["text_config"]
    lm = synth.tensor((tc["vocab_size"], tc["hidden_size"]), CHECKPOINT_WEIGHTS_SEED, LM_TENSOR, 0.02, 0.0)
    shards[3][LM_TENSOR] = torch.from_numpy(lm).to(torch.bfloat16)
    weight_map = {}
    total = 0
    for i, tensors in shards.items():
        fname = f"model-{i:05d}-of-00003.safetensors"
        write_safetensors(folder / fname, tensors, {"format": "pt"})
        for k, v in tensors.items():
            weight_map[k] = fname
            total += v.numel() * v.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    write_json(folder / "model.safetensors.index.json", index)

    # Read back what is on disk, through the index, exactly as a loader would.
    on_disk = {}
    idx = json.loads((folder / "model.safetensors.index.json").read_text())
    for fname in sorted(set(idx["weight_map"].values())):
        for k, v in load_file(str(folder / fname)).items():
            assert v.dtype == torch.bfloat16, (k, v.dtype)
            if k.startswith("model.visual."):
                on_disk[k[len("model.visual.") :]] = v
    assert set(on_disk) == set(weights_f32), set(on_disk) ^ set(weights_f32)
    return on_disk


def check_checkpoint_with_from_pretrained(folder: Path, pixels, grid, golden: dict):
    """Load the folder with the regular HF entry point and check it agrees with our golden."""
    from transformers import Qwen3VLForConditionalGeneration
    from transformers.utils import logging as hf_logging

    cfg = Qwen3VLConfig.from_pretrained(str(folder))
    assert cfg.vision_config.model_type == "qwen3_vl_vision"
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the text model's missing weights are expected
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = Qwen3VLForConditionalGeneration.from_pretrained(str(folder), dtype=torch.float32).eval()
    finally:
        hf_logging.set_verbosity(verbosity)
    vis = full.model.visual
    res = run(vis, pixels, grid)
    for k, v in golden.items():
        if not torch.equal(res[k], v):
            d = (res[k] - v).abs().max().item()
            raise AssertionError(f"from_pretrained output {k} differs from the golden by {d}")
    emb = full.model.language_model.embed_tokens.weight
    assert tuple(emb.shape) == (TINY_TEXT_CONFIG["vocab_size"], TINY_TEXT_CONFIG["hidden_size"])


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

_weights_cache: dict = {}


def get_weights(cfg_name: str, seed: int) -> dict:
    key = (cfg_name, seed)
    if key not in _weights_cache:
        _weights_cache.clear()  # keep at most one full-size tower in memory
        t = time.time()
        _weights_cache[key] = synthetic_weights(vision_config(cfg_name), seed)
        n = sum(v.size for v in _weights_cache[key].values())
        log(f"  synthetic weights {cfg_name} seed {seed}: {n:,} values in {time.time() - t:.1f}s")
    return _weights_cache[key]


def make_case(case: dict, manifest_extra: dict) -> dict:
    name = case["name"]
    cfg_name = case["config"]
    cfg = vision_config(cfg_name)
    grids = case["grids"]
    n = num_patches(grids)
    t0 = time.time()
    log(f"[{name}] config {cfg_name}, grids {grids}, N={n}")

    weights = get_weights(cfg_name, case["weights_seed"])
    pixels = torch.from_numpy(synth.pixels(n, case["pixels_seed"]))
    grid = torch.tensor(grids, dtype=torch.int64)

    if "checkpoint" in case:
        folder = GOLDEN / case["checkpoint"]
        ref_weights = {k: v.float() for k, v in write_checkpoint(folder, cfg_name, weights).items()}
        write_safetensors(
            GOLDEN / f"{name}.pixels.safetensors",
            {"pixel_values": pixels, "grid_thw": grid},
            {"case": name, "pixels_seed": str(case["pixels_seed"]), "generator": GENERATOR},
        )
    else:
        ref_weights = weights

    model = build_model(cfg)
    attn_impl = model.config._attn_implementation
    check_no_persistent_buffers(model)
    load_weights(model, ref_weights)
    ref = run(model, pixels, grid)
    again = run(model, pixels, grid)
    for k in ref:
        assert torch.equal(ref[k], again[k]), f"{name}: forward not repeatable for {k}"
    check_outputs(ref, cfg, grids)
    t_f32 = time.time() - t0

    # precision context: bf16 weights and inputs, same forward
    t1 = time.time()
    m16 = build_model(cfg, dtype=torch.bfloat16)
    assert m16.rotary_pos_emb.inv_freq.dtype == torch.float32
    load_weights(m16, ref_weights, torch.bfloat16)
    bf16 = compare(run(m16, pixels, grid), ref)
    del m16
    t_bf16 = time.time() - t1

    # precision context: eager attention in float32
    t2 = time.time()
    eager_vs_sdpa = None
    if attn_impl != "eager":
        me = build_model(cfg, attn="eager")
        assert me.config._attn_implementation == "eager"
        load_weights(me, ref_weights)
        eager_vs_sdpa = compare(run(me, pixels, grid), ref)
        del me
    t_eager = time.time() - t2

    if "checkpoint" in case:
        check_checkpoint_with_from_pretrained(GOLDEN / case["checkpoint"], pixels, grid, ref)

    meta = {
        "case": name,
        "config": cfg_name,
        "config_json": json.dumps(config_dict(cfg, cfg_name), sort_keys=True),
        "weights_seed": str(case["weights_seed"]),
        "pixels_seed": str(case["pixels_seed"]),
        "weights_dtype": case["weights_dtype"],
        "grids": json.dumps(grids),
        "attn_implementation": attn_impl,
        "generator": GENERATOR,
        "versions": json.dumps(versions(), sort_keys=True),
    }
    if "checkpoint" in case:
        meta["checkpoint"] = case["checkpoint"]
        meta["pixels"] = f"{name}.pixels.safetensors"
    tensors = dict(ref)
    tensors["grid_thw"] = grid
    write_safetensors(GOLDEN / f"{name}.safetensors", tensors, meta)
    log(
        f"  f32 {t_f32:.1f}s, bf16 {t_bf16:.1f}s, eager {t_eager:.1f}s; "
        f"pooler bf16 rel_max {bf16['pooler_output']['rel_max']}, cos {bf16['pooler_output']['cosine']}"
    )

    entry = {"name": name}
    if "checkpoint" in case:
        entry["checkpoint"] = case["checkpoint"]
        entry["pixels"] = f"{name}.pixels.safetensors"
    entry.update(
        {
            "config": cfg_name,
            "weights_seed": case["weights_seed"],
            "pixels_seed": case["pixels_seed"],
            "weights_dtype": case["weights_dtype"],
            "grids": grids,
            "num_patches": n,
            "file": f"{name}.safetensors",
            "outputs": {k: list(v.shape) for k, v in tensors.items()},
            "bf16_vs_f32": bf16,
            "eager_vs_sdpa": eager_vs_sdpa,
        }
    )
    manifest_extra["attn_implementation"] = attn_impl
    return entry


def write_configs() -> dict:
    info = {}
    for name in CONFIGS:
        cfg = vision_config(name)
        write_json(GOLDEN / "configs" / f"{name}.json", config_dict(cfg, name))
        info[name] = {"file": f"configs/{name}.json", "rotary": check_rotary(cfg)}
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", metavar="CASE", help="make only this case (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print(c["name"], c["config"], c["grids"])
        return
    check_versions()
    synth.self_test()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)  # weights are overwritten anyway; this only pins the throwaway init

    names = [c["name"] for c in CASES]
    only = args.only or names
    for o in only:
        if o not in names:
            raise SystemExit(f"unknown case {o!r}; cases: {', '.join(names)}")

    t0 = time.time()
    configs_info = write_configs()
    manifest_path = GOLDEN / "manifest.json"
    old = {}
    if args.only and manifest_path.exists():
        old = {c["name"]: c for c in json.loads(manifest_path.read_text())["cases"]}
    extra: dict = {}
    entries = {}
    for c in CASES:
        if c["name"] in only:
            entries[c["name"]] = make_case(c, extra)
        elif c["name"] in old:
            entries[c["name"]] = old[c["name"]]
    manifest = {
        "generator": GENERATOR,
        "versions": versions(),
        "attn_implementation": extra["attn_implementation"],
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "rotary_inv_freq": "computed at construction (non-persistent buffer), never loaded",
        "configs": configs_info,
        "synth": {
            "definition": "splitmix64 from seed XOR fnv1a64(name); u = float32(int64(z>>40) - 2^23) * 2^-23; "
            "v = float32(float32(scale) * u) + float32(offset)",
            "pinned_seed0_empty_name": [f"0x{x:08x}" for x in synth.PINNED],
            "rules": {
                "*.bias": {"scale": 0.02, "offset": 0},
                "1-D *.weight (LayerNorm)": {"scale": 0.1, "offset": 1},
                "pos_embed.weight": {"scale": 1, "offset": 0},
                "other *.weight": {"scale": "float32(1/sqrt(fan_in)), fan_in = prod(shape[1:])", "offset": 0},
                "pixel_values [N,1536]": {"scale": 1, "offset": 0, "name": "pixel_values", "seed": "pixels_seed"},
            },
        },
        "cases": [entries[n] for n in names if n in entries],
    }
    write_json(manifest_path, manifest)
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
