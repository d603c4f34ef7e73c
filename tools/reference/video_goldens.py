#!/usr/bin/env python3
"""Golden fixtures for video preprocessing (package imageproc, video*.go).

Writes testdata/video/:

    inputs/<case>/frame_NNNNN.png   the synthetic frames of each case (lossless PNG, read back
                                    and checked equal to the arrays the reference is given)
    config_<cfg>/video_preprocessor_config.json
                                    ckpt: the released Qwen3-VL values; small: a small budget
                                    and max_frames 8; capped: cap_pixels_per_frame with 8 tokens
                                    per frame
    golden/<case>.safetensors       <cfg>.resized uint8 [n, H', W', 3]: every sampled frame after
                                    the resize, recovered exactly from pixel_values_videos;
                                    <cfg>.pixel_values float32 [N, 1536] for a few (case, cfg)
    golden/normalize_lut.safetensors
                                    lut float32 [3, 256]: the processor's normalisation of each
                                    level (pixel_values_videos == lut[levels], checked per case)
    encode/<case>-tiny.safetensors  HF Qwen3VLVisionModel (tiny config of testdata/golden, synthetic
                                    weights seed 1) on the processor's pixel_values_videos
    smart_resize.json               the reference's video smart_resize and its patch count with
                                    and without cap_pixels_per_frame on many sizes
    manifest.json                   per case and config: the metadata given, the sampled frame
                                    indices, fps used, grid, timestamps, resized size or the error

The reference is given the decoded frames as arrays (plus metadata {total_num_frames, fps} when
the case has an fps), exactly as Qwen3VLVideoProcessor receives them after decoding, so codec
differences do not enter. Timestamps are Qwen3VLProcessor._calculate_timestamps on the
returned metadata, with fps 24 when unknown (replace_video_token).

Run from the repository root:
    tools/reference/.venv/bin/python tools/reference/video_goldens.py
The output is byte-for-byte deterministic for the pinned versions (requirements.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "video"
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoVideoProcessor  # noqa: E402
from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor  # noqa: E402
from transformers.models.qwen3_vl.video_processing_qwen3_vl import (  # noqa: E402
    Qwen3VLVideoProcessor,
    smart_resize,
)
from transformers.utils import logging as hf_logging  # noqa: E402

import make_goldens as mg  # noqa: E402  (tower, weights, deterministic safetensors writer)

# make_goldens' deterministic writer knows float and int dtypes; the resized frames are uint8.
mg._ST_DTYPES.setdefault(torch.uint8, "U8")

GENERATOR = "tools/reference/video_goldens.py"
PINNED = dict(mg.PINNED, pillow="13.0.0", torchvision="0.29.2")

COMMON = {
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "Qwen3VLProcessor",
    "video_processor_type": "Qwen3VLVideoProcessor",
}
CONFIGS = {
    # Qwen/Qwen3-VL-*-Instruct video_preprocessor_config.json (fps, frames, cap: class defaults).
    "ckpt": {"size": {"longest_edge": 25165824, "shortest_edge": 4096}},
    # A small T×H×W budget (upscales and downscales of small frames) and max_frames 8.
    "small": {"size": {"longest_edge": 65536, "shortest_edge": 16384}, "max_frames": 8},
    # The per-frame cap of qwen-vl-utils, binding at 8 tokens (8·32² pixels) per frame.
    "capped": {
        "size": {"longest_edge": 131072, "shortest_edge": 4096},
        "cap_pixels_per_frame": True,
        "max_video_tokens": 8,
    },
}

# (case, config) pairs whose raw pixel_values_videos are stored.
PIXEL_VALUES = {("odd_frames", "ckpt")}
# The end-to-end encode golden: this case's ckpt pixel_values_videos through the tiny tower.
ENCODE_CASES = ["odd_frames"]
ENCODE_CONFIG = "tiny"


# ---------------------------------------------------------------- frames


def moving(t: int, h: int, w: int, seed: int) -> np.ndarray:
    """Smooth gradients that drift, a moving sharp bar, moving diagonal edges, a noise patch."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((t, h, w, 3), np.uint8)
    for k in range(t):
        r = (x * 255.0 / max(w - 1, 1) + 9 * k) % 256
        g = y * 255.0 / max(h - 1, 1)
        b = 128 + 100 * np.sin((x + y + 5 * k) / 7.0)
        f = np.stack([r, g, b], -1)
        bar = ((x - 3 * k) % w) < max(2, w // 8)
        f[bar] = [250, 20, (240 - 10 * k) % 200]
        f[((x + 2 * y - 4 * k) % 23) < 3] = [0, 0, 0]
        ph, pw = max(1, h // 4), max(1, w // 4)
        f[:ph, w - pw :] = rng.integers(0, 256, (ph, pw, 3))
        out[k] = np.clip(np.round(f), 0, 255).astype(np.uint8)
    return out


def noise(t: int, h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


# name: (frames, fps or None, configs, note)
def cases():
    return {
        "four_frames": (moving(4, 45, 100, 1), 2.0, ["ckpt", "small", "capped"],
                        "4 frames at 2 fps: all kept; 45x100 -> 32x96 (ckpt), upscaled in small"),
        "odd_frames": (moving(5, 45, 100, 2), 2.0, ["ckpt", "small", "capped"],
                       "5 frames at 2 fps: all kept, padded to 6 (t' = round(2.5)*2 = 4 in the budget); the encode golden"),
        "seven_frames": (moving(7, 61, 97, 3), 2.0, ["ckpt", "small"],
                         "7 frames at 2 fps: all kept, padded to 8"),
        "three_frames": (moving(3, 40, 56, 4), 2.0, ["ckpt", "small"],
                         "3 frames, fewer than min_frames 4: n = min(max(int(3), 4), 768, 3) = 3, padded to 4"),
        "many_frames": (moving(40, 24, 32, 5), 2.0, ["ckpt", "small", "capped"],
                        "40 frames at 2 fps: 40 kept in ckpt, clamped to max_frames 8 in small"),
        "fps_sampled": (moving(60, 24, 32, 6), 30.0, ["ckpt", "small"],
                        "60 frames at 30 fps: int(60/30*2) = 4 sampled"),
        "fps_missing": (moving(30, 24, 32, 7), None, ["ckpt", "small"],
                        "30 frames, no metadata: fps 24 assumed (sampling and timestamps)"),
        "fps_missing_odd": (moving(9, 33, 47, 8), None, ["ckpt"],
                            "9 frames, no metadata: int(9/24*2) = 0 -> 4 frames"),
        "below_factor": (moving(4, 20, 13, 9), 1.0, ["ckpt", "small"],
                         "13x20 frames, below the factor 32: scaled up first (int(13*32/13) = 31)"),
        "below_min": (moving(4, 40, 56, 10), 4.0, ["ckpt", "small"],
                      "4 frames 56x40: below the small budget's minimum 16384 -> ceil path"),
        "above_max": (moving(8, 100, 120, 11), 2.0, ["small", "capped"],
                      "8 frames 120x100: above the small budget's maximum 65536 -> floor path; "
                      "within the capped budget's 131072 but above its per-frame cap (8*8192)"),
        "noise_frames": (noise(6, 35, 70, 12), 6.0, ["ckpt"], "uniform noise, 6 frames at 6 fps"),
        "single_frame": (moving(1, 40, 56, 13), 2.0, ["ckpt"],
                         "1 frame: the reference fails (t:1 must be larger than temporal_factor:2)"),
        "aspect_201": (moving(4, 2, 402, 14), 2.0, ["ckpt"], "402x2: aspect ratio 201 -> error"),
    }


# ---------------------------------------------------------------- helpers


def versions() -> dict:
    v = mg.versions()
    v.update({"pillow": PIL.__version__, "torchvision": torchvision.__version__})
    return v


def check_versions():
    v = versions()
    bad = {k: (v[k], want) for k, want in PINNED.items() if v[k].split("+")[0] != want}
    if bad:
        raise SystemExit(f"unpinned reference versions (got, want): {bad}; use tools/reference/.venv")


def dumps(obj, indent: int = 0) -> str:
    """JSON with objects indented and lists of scalars (or of such lists) on one line each."""
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, list) and any(isinstance(x, list) for x in obj):
        return "[\n" + ",\n".join(pad + json.dumps(x) for x in obj) + "\n" + " " * indent + "]"
    return json.dumps(obj)


def write_json(path: Path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj) + "\n")


def write_frames(name: str, frames: np.ndarray) -> list[str]:
    d = OUT / "inputs" / name
    d.mkdir(parents=True, exist_ok=True)
    files = []
    for k, f in enumerate(frames):
        fn = f"frame_{k:05d}.png"
        p = d / fn
        Image.fromarray(f).save(p, optimize=True)
        os.chmod(p, 0o644)
        back = np.asarray(Image.open(p).convert("RGB"))
        assert np.array_equal(back, f), (name, fn)
        files.append(fn)
    return files


def level_lut(vp) -> torch.Tensor:
    """The processor's own normalisation of every 8-bit level, per channel: [3, 256] float32."""
    lv = torch.arange(256, dtype=torch.uint8).view(1, 1, 1, 256).expand(1, 3, 1, 256).contiguous()
    out = vp.rescale_and_normalize(lv, True, vp.rescale_factor, True, vp.image_mean, vp.image_std)
    return out[0, :, 0, :].contiguous()


def unpatchify(pv: torch.Tensor, grid, vp) -> torch.Tensor:
    """Invert Qwen3VLVideoProcessor.patchify for one video: [gt*T, H', W', 3] float32."""
    gt, gh, gw = grid
    m, p, tp = vp.merge_size, vp.patch_size, vp.temporal_patch_size
    x = pv.view(gt, gh // m, gw // m, m, m, 3, tp, p, p)
    # axes: 0 gt, 1 bh, 2 bw, 3 mh, 4 mw, 5 c, 6 t, 7 py, 8 px -> (gt, t, bh, mh, py, bw, mw, px, c)
    x = x.permute(0, 6, 1, 3, 7, 2, 4, 8, 5)
    return x.reshape(gt * tp, gh * p, gw * p, 3)


def levels_from_pixels(pv: torch.Tensor, grid, vp, lut: torch.Tensor) -> np.ndarray:
    """Resized frames as uint8, checked to reproduce pv bit for bit through the processor's LUT."""
    f = unpatchify(pv, grid, vp)
    lv = torch.round(f * 127.5 + 127.5).clamp(0, 255).to(torch.int64)
    back = torch.stack([lut[c][lv[..., c]] for c in range(3)], -1)
    assert torch.equal(back.view(torch.int32), f.contiguous().view(torch.int32)), "pixel values are not levels"
    return lv.to(torch.uint8).numpy()


def processor(cfg: str) -> Qwen3VLVideoProcessor:
    vp = AutoVideoProcessor.from_pretrained(str(OUT / f"config_{cfg}"))
    assert type(vp) is Qwen3VLVideoProcessor, type(vp)
    return vp


# ---------------------------------------------------------------- smart_resize table


def smart_resize_table() -> dict:
    vp_plain = Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2, cap_pixels_per_frame=False)
    vp_cap = Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2, cap_pixels_per_frame=True)
    rng = np.random.default_rng(2026)
    budgets = [(4096, 25165824), (16384, 65536), (4096, 131072), (131072, 786432), (1000, 1000), (100000, 200000)]
    sides = [1, 2, 7, 13, 15, 16, 17, 20, 31, 32, 33, 47, 48, 63, 64, 65, 100, 240, 360, 480, 720, 1080, 1920, 3840]
    frames = [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 64, 768]
    rows = []

    def add(n, h, w, mn, mx, tokens):
        try:
            rh, rw = smart_resize(n, h, w, temporal_factor=2, factor=32, min_pixels=mn, max_pixels=mx)
        except ValueError:
            rh = rw = -1
        kw = {"size": {"shortest_edge": mn, "longest_edge": mx}}
        vp_cap.max_video_tokens = tokens
        try:
            plain = vp_plain.get_num_of_video_patches(n, h, w, kw)
        except (ValueError, ZeroDivisionError):
            plain = -1
        try:
            capped = vp_cap.get_num_of_video_patches(n, h, w, dict(kw, cap_pixels_per_frame=True))
        except (ValueError, ZeroDivisionError):
            capped = -1
        rows.append([n, h, w, mn, mx, tokens, rh, rw, plain, capped])

    for mn, mx in budgets:
        for n in frames:
            for h in sides:
                for w in sides:
                    if rng.random() < 0.06:
                        add(n, h, w, mn, mx, int(rng.choice([8, 64, 768])))
    for _ in range(400):
        mn = int(rng.integers(1, 200000))
        mx = mn + int(rng.integers(0, 3000000))
        add(int(rng.integers(1, 40)), int(rng.integers(1, 2000)), int(rng.integers(1, 2000)), mn, mx,
            int(rng.integers(1, 800)))
    # aspect-ratio edges, after the scale-up of tiny sides
    for h, w in [(1, 200), (1, 201), (2, 401), (2, 402), (200, 1), (201, 1), (3, 600), (3, 601)]:
        add(4, h, w, 4096, 25165824, 768)
    return {
        "columns": ["num_frames", "height", "width", "min_pixels", "max_pixels", "max_video_tokens",
                    "resized_height", "resized_width", "patches", "patches_capped"],
        "note": "smart_resize(num_frames, h, w, temporal_factor=2, factor=32, min, max); -1 = ValueError. "
                "patches / patches_capped: Qwen3VLVideoProcessor.get_num_of_video_patches without / with "
                "cap_pixels_per_frame (max_video_tokens as given).",
        "rows": rows,
    }


# ---------------------------------------------------------------- main


def main():
    check_versions()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(os.cpu_count() or 1)
    for sub in ["inputs", "golden", "encode"]:
        shutil.rmtree(OUT / sub, ignore_errors=True)
    for cfg, extra in CONFIGS.items():
        write_json(OUT / f"config_{cfg}" / "video_preprocessor_config.json", dict(COMMON, **extra))

    manifest = {
        "generator": GENERATOR,
        "versions": versions(),
        "configs": {cfg: f"config_{cfg}/video_preprocessor_config.json" for cfg in CONFIGS},
        "cases": {},
        "encode": {},
    }
    procs = {cfg: processor(cfg) for cfg in CONFIGS}
    manifest["processor"] = {
        cfg: {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(vp.to_dict().items())
              if k in ("size", "fps", "min_frames", "max_frames", "do_sample_frames", "cap_pixels_per_frame",
                       "max_video_tokens", "patch_size", "temporal_patch_size", "merge_size")}
        for cfg, vp in procs.items()
    }
    for cfg, vp in procs.items():
        manifest["processor"][cfg]["cap_pixels_per_frame"] = vp.cap_pixels_per_frame
    pixel_values = {}
    for name, (frames, fps, cfgs, note) in cases().items():
        files = write_frames(name, frames)
        t, h, w, _ = frames.shape
        entry = {"note": note, "frames": t, "height": int(h), "width": int(w), "fps": fps,
                 "files": f"inputs/{name}/frame_NNNNN.png", "results": {}}
        tensors = {}
        for cfg in cfgs:
            vp = procs[cfg]
            md = None if fps is None else [{"total_num_frames": int(t), "fps": float(fps)}]
            kw = {"video_metadata": md} if md is not None else {}
            res = {}
            try:
                out = vp(videos=[frames.copy()], return_tensors="pt", return_metadata=True, **kw)
            except ValueError as e:
                res["error"] = str(e)
                entry["results"][cfg] = res
                print(f"{name:16s} {cfg:7s} error: {e}")
                continue
            pv = out["pixel_values_videos"]
            grid = [int(x) for x in out["video_grid_thw"][0]]
            meta = out["video_metadata"][0]
            indices = [int(i) for i in meta.frames_indices]
            fps_used = 24 if meta.fps is None else meta.fps
            ts = Qwen3VLProcessor._calculate_timestamps(None, list(indices), fps_used, vp.temporal_patch_size)
            assert len(ts) == grid[0], (ts, grid)
            lut = level_lut(vp)
            lv = levels_from_pixels(pv, grid, vp, lut)
            n = len(indices)
            for k in range(n, lv.shape[0]):
                assert np.array_equal(lv[k], lv[n - 1]), f"{name} {cfg}: padding frame {k} is not the last frame"
            assert pv.shape == (grid[0] * grid[1] * grid[2], 1536)
            tensors[f"{cfg}.resized"] = torch.from_numpy(np.ascontiguousarray(lv[:n]))
            stored = ["resized"]
            if (name, cfg) in PIXEL_VALUES:
                tensors[f"{cfg}.pixel_values"] = pv.contiguous()
                stored.append("pixel_values")
            pixel_values[(name, cfg)] = (pv, grid)
            res.update({
                "fps_given": fps,
                "fps_used": float(fps_used),
                "frames_indices": indices,
                "grid": grid,
                "resized": [int(lv.shape[1]), int(lv.shape[2])],
                "timestamps": [float(x) for x in ts],
                "timestamp_text": [f"<{x:.1f} seconds>" for x in ts],
                "stored": stored,
            })
            entry["results"][cfg] = res
            print(f"{name:16s} {cfg:7s} n={n:3d} grid={grid} resized={lv.shape[1]}x{lv.shape[2]} ts={res['timestamp_text']}")
        if tensors:
            mg.write_safetensors(OUT / "golden" / f"{name}.safetensors", tensors,
                                 {"case": name, "generator": GENERATOR})
        manifest["cases"][name] = entry

    # End to end: the processor's output through the HF tower (tiny config, synthetic weights).
    cfg_t = mg.vision_config(ENCODE_CONFIG)
    seed = mg.WEIGHTS_SEED[ENCODE_CONFIG]
    weights = mg.synthetic_weights(cfg_t, seed)
    model = mg.build_model(cfg_t)
    mg.load_weights(model, weights)
    for name in ENCODE_CASES:
        pv, grid = pixel_values[(name, "ckpt")]
        g = torch.tensor([grid], dtype=torch.int64)
        ref = mg.run(model, pv, g)
        again = mg.run(model, pv, g)
        for k in ref:
            assert torch.equal(ref[k], again[k]), k
        mg.check_outputs(ref, cfg_t, [grid])
        tensors = dict(ref)
        tensors["grid_thw"] = g
        meta = {
            "case": name,
            "video_config": "ckpt",
            "config": ENCODE_CONFIG,
            "config_json": json.dumps(mg.config_dict(cfg_t, ENCODE_CONFIG), sort_keys=True),
            "weights_seed": str(seed),
            "attn_implementation": model.config._attn_implementation,
            "generator": GENERATOR,
            "versions": json.dumps(versions(), sort_keys=True),
        }
        fn = f"{name}-{ENCODE_CONFIG}.safetensors"
        mg.write_safetensors(OUT / "encode" / fn, tensors, meta)
        manifest["encode"][name] = {"file": f"encode/{fn}", "video_config": "ckpt", "config": ENCODE_CONFIG,
                                    "config_file": f"testdata/golden/configs/{ENCODE_CONFIG}.json",
                                    "weights_seed": seed, "grid": grid,
                                    "outputs": {k: list(v.shape) for k, v in tensors.items()}}
        print(f"encode {name}: grid {grid}, pooler {tuple(ref['pooler_output'].shape)}")

    # The processor's normalisation of every level (identical for the three configs): with it,
    # equal levels mean bitwise-equal pixel_values_videos.
    luts = {cfg: level_lut(vp) for cfg, vp in procs.items()}
    for cfg, lut in luts.items():
        assert torch.equal(lut, luts["ckpt"]), cfg
    mg.write_safetensors(OUT / "golden" / "normalize_lut.safetensors", {"lut": luts["ckpt"]},
                         {"generator": GENERATOR, "what": "rescale_and_normalize of levels 0..255, per channel"})

    write_json(OUT / "smart_resize.json", smart_resize_table())
    write_json(OUT / "manifest.json", manifest)


if __name__ == "__main__":
    main()
