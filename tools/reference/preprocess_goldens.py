"""Golden fixtures for package imageproc (image preprocessing of Qwen3-VL).

Generates small synthetic input images (no photographs) under
testdata/imageproc/inputs/, two preprocessor_config.json files, and, for every
input, the outputs of the pinned Hugging Face image processor with its default
backend (torchvision, "fast") and its PIL backend (use_fast=False):

    testdata/imageproc/golden/<name>.safetensors
        default.decoded, pil.decoded      uint8 [H, W, 3]  the image each backend
                                          resizes: decoded from the file, upright,
                                          after the backend's convert_to_rgb
                                          (pil.decoded only where it differs)
        <cfg>.<backend>.grid              int64 [3]        image_grid_thw[0]
        <cfg>.<backend>.resized           uint8 [H', W', 3] the resized image,
                                          recovered exactly from pixel_values
        <cfg>.<backend>.pixel_values      float32 [N, 1536] (a few fixtures only)
    testdata/imageproc/manifest.json      per fixture: file, kind, notes, how each
                                          backend was fed, expected errors; versions

<cfg> is "ckpt" (the Qwen3-VL checkpoint values) or "small" (a small pixel
budget so that downscales stay small). <backend> is "default" or "pil".

Run from the repository root:
    tools/reference/.venv/bin/python tools/reference/preprocess_goldens.py
The output is deterministic for the pinned versions (requirements.txt).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
import zlib

import numpy as np

warnings.filterwarnings("ignore")

import PIL  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
import transformers  # noqa: E402
from PIL import Image, ImageDraw, features  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from transformers import AutoImageProcessor  # noqa: E402
from transformers.image_transforms import convert_to_rgb  # noqa: E402
from transformers.image_utils import load_image, load_image_as_tensor  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "testdata", "imageproc")
INPUTS = os.path.join(OUT, "inputs")
GOLDEN = os.path.join(OUT, "golden")

CONFIGS = {
    # The released Qwen3-VL preprocessor_config.json values.
    "ckpt": {"size": {"shortest_edge": 65536, "longest_edge": 16777216}},
    # A small budget: downscales of small inputs, small fixtures.
    "small": {"size": {"shortest_edge": 1024, "longest_edge": 8192}},
}
COMMON = {
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "Qwen3VLProcessor",
    "image_processor_type": "Qwen2VLImageProcessorFast",
}

# (fixture, config) pairs whose full pixel_values are stored, default backend only.
PIXEL_VALUES = {("edges_97x61", "small"), ("tiny_7x5", "small")}
# Fixtures whose resized image is stored for the ckpt config (default backend);
# every fixture's is stored for the small config (both backends).
CKPT_RESIZED = {"grad_400x300", "edges_97x61"}
# Plain 8-bit RGB PNGs: the decoded image is the file's pixels, not stored.
PLAIN = {"grad_400x300", "edges_97x61", "noise_160x120", "text_300x200", "photo_250x190", "mult32_96x64",
         "tiny_1x1", "tiny_7x5", "tiny_31x17", "strip_1x150", "strip_150x1", "aspect_199x1", "aspect_201x1",
         "aspect_1x201"}


# ---------------------------------------------------------------- generators


def photo(h, w, seed):
    """Photo-like content: smooth colour fields, sharp shapes, sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.full((h, w, 3), 128.0)
    for c in range(3):
        for _ in range(6):
            fx, fy = rng.uniform(0.3, 6, 2)
            img[..., c] += rng.uniform(8, 35) * np.sin(2 * np.pi * (fx * x + fy * y) + rng.uniform(0, 6.3))
    pim = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pim)
    for _ in range(10):
        x0, x1 = sorted(rng.integers(0, w, 2))
        y0, y1 = sorted(rng.integers(0, h, 2))
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.integers(2):
            d.rectangle([x0, y0, x1, y1], fill=col)
        else:
            d.ellipse([x0, y0, x1, y1], fill=col)
    a = np.asarray(pim).astype(np.float64) + rng.normal(0, 5, (h, w, 3))
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def gradient(h, w):
    y, x = np.mgrid[0:h, 0:w]
    r = x * 255.0 / max(w - 1, 1)
    g = y * 255.0 / max(h - 1, 1)
    b = 128 + 100 * np.sin((x + y) / 23.0)
    return np.clip(np.round(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


def edges(h, w):
    y, x = np.mgrid[0:h, 0:w]
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = np.where(((x // 7) + (y // 5)) % 2 == 0, 255, 0)
    a[..., 1] = np.where(x > w // 2, 230, 20)
    a[..., 2] = np.where((x - y) % 11 < 2, 255, 40)
    return a


def noise(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def strokes(h, w, seed):
    """Text-like black strokes on white."""
    rng = np.random.default_rng(seed)
    pim = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(pim)
    for line in range(h // 18):
        yb = 6 + line * 18
        xc = 4
        while xc < w - 12:
            cw = int(rng.integers(5, 11))
            for _ in range(int(rng.integers(1, 4))):
                pts = [(xc + int(rng.integers(0, cw)), yb + int(rng.integers(0, 12))) for _ in range(2)]
                d.line(pts, fill=(0, 0, 0), width=int(rng.integers(1, 3)))
            xc += cw + int(rng.integers(1, 4)) + (6 if rng.random() < 0.15 else 0)
    return np.asarray(pim)


def png_chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def png_raw(path, arr, ctype, depth, extra=b""):
    """Write a PNG directly (Pillow cannot write 16-bit RGB, nor choose tRNS freely)."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].tobytes() for y in range(h))
    chunk = png_chunk
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def exif(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e


def make_inputs():
    """Create every input; returns {name: (filename, kind, note)}."""
    os.makedirs(INPUTS, exist_ok=True)
    fx = {}

    def save(name, ext, kind, note, writer):
        fn = f"{name}.{ext}"
        writer(os.path.join(INPUTS, fn))
        fx[name] = {"file": fn, "kind": kind, "note": note}

    def rgb_png(name, a, note):
        save(name, "png", "lossless", note, lambda p: Image.fromarray(a).save(p, optimize=True))

    rgb_png("grad_400x300", gradient(300, 400), "smooth gradient; the seed size (400x300 -> 384x288)")
    rgb_png("edges_97x61", edges(61, 97), "sharp edges, odd size, upscale")
    rgb_png("noise_160x120", noise(120, 160, 1), "uniform noise; downscale in the small config")
    rgb_png("text_300x200", strokes(200, 300, 2), "text-like strokes on white")
    rgb_png("photo_250x190", photo(190, 250, 3), "photo-like synthetic content, lossless")
    rgb_png("mult32_96x64", gradient(64, 96)[:, ::-1].copy(), "exact multiple of 32: no resize in the small config")
    rgb_png("tiny_1x1", noise(1, 1, 4), "1x1 pixel")
    rgb_png("tiny_7x5", noise(5, 7, 5), "7x5 pixels")
    rgb_png("tiny_31x17", edges(17, 31), "31x17 pixels")
    rgb_png("strip_1x150", noise(150, 1, 6), "1 wide, 150 high")
    rgb_png("strip_150x1", noise(1, 150, 7), "150 wide, 1 high")
    rgb_png("aspect_199x1", gradient(2, 398), "398x2: aspect 199, accepted")
    rgb_png("aspect_201x1", gradient(2, 402), "402x2: aspect 201, rejected")
    rgb_png("aspect_1x201", gradient(201, 1), "1x201: aspect 201, rejected")

    rng = np.random.default_rng(10)
    a = photo(80, 120, 11)
    alpha = np.tile(np.linspace(0, 255, 120).astype(np.uint8), (80, 1))
    alpha[:20] = 0
    save("rgba_120x80", "png", "lossless", "RGBA, alpha 0..255 and a fully transparent band",
         lambda p: Image.fromarray(np.dstack([a, alpha]), "RGBA").save(p))
    la = np.dstack([photo(48, 64, 12)[..., 0], np.tile(np.linspace(255, 0, 64).astype(np.uint8), (48, 1))])
    save("la_64x48", "png", "lossless", "gray + alpha (LA)", lambda p: Image.fromarray(la, "LA").save(p))
    idx = (photo(70, 90, 13)[..., 0] // 16).astype(np.uint8)
    pal = rng.integers(0, 256, 48).astype(np.uint8).tolist()

    def pal_png(p, trns):
        im = Image.fromarray(idx, "P")
        im.putpalette(pal)
        if trns:
            im.save(p, transparency=bytes([255, 0, 128, 64] + [255] * 12))
        else:
            im.save(p)

    save("palette_90x70", "png", "lossless", "palette (P), 16 colours", lambda p: pal_png(p, False))
    save("palette_trns_90x70", "png", "lossless", "palette with tRNS alpha", lambda p: pal_png(p, True))
    ck = photo(40, 60, 18)
    ck[::3, ::4] = (10, 200, 30)
    save("rgb_trns_60x40", "png", "lossless", "8-bit RGB with a tRNS colour key",
         lambda p: png_raw(p, ck, 2, 8, png_chunk(b"tRNS", struct.pack(">HHH", 10, 200, 30))))
    gk = photo(40, 60, 19)[..., 0]
    gk[1::3, ::5] = 77
    save("gray_trns_60x40", "png", "lossless", "8-bit gray with a tRNS colour key",
         lambda p: png_raw(p, gk, 0, 8, png_chunk(b"tRNS", struct.pack(">H", 77))))
    save("gray_80x60", "png", "lossless", "8-bit grayscale (L)", lambda p: Image.fromarray(photo(60, 80, 14)[..., 1]).save(p))
    g1 = (photo(21, 33, 15)[..., 2] > 128)
    save("gray1_33x21", "png", "lossless", "1-bit grayscale", lambda p: Image.fromarray(g1).save(p))
    rgb16 = (photo(50, 70, 16).astype(np.uint16) * 257 + rng.integers(0, 257, (50, 70, 3))).astype(">u2")
    save("rgb16_70x50", "png", "16bit", "16-bit RGB", lambda p: png_raw(p, rgb16, 2, 16))
    g16 = (photo(50, 70, 17)[..., 0].astype(np.uint16) * 257 + rng.integers(0, 257, (50, 70))).astype(">u2")
    save("gray16_70x50", "png", "16bit", "16-bit grayscale", lambda p: png_raw(p, g16, 0, 16))
    rgba16 = np.dstack([rgb16, (np.tile(np.linspace(0, 65535, 70), (50, 1))).astype(">u2")]).astype(">u2")
    save("rgba16_70x50", "png", "16bit", "16-bit RGBA", lambda p: png_raw(p, rgba16, 6, 16))
    for o in (2, 3, 4, 5, 6, 7, 8):
        save(f"png_orient{o}", "png", "lossless", f"PNG eXIf orientation {o}",
             lambda p, o=o: Image.fromarray(photo(40, 56, 20 + o)).save(p, exif=exif(o)))

    ph = photo(157, 203, 30)
    save("j420_203x157", "jpg", "jpeg", "JPEG 4:2:0 q90, odd size", lambda p: Image.fromarray(ph).save(p, quality=90, subsampling=2))
    save("j422_203x157", "jpg", "jpeg", "JPEG 4:2:2 q90", lambda p: Image.fromarray(ph).save(p, quality=90, subsampling=1))
    save("j444_203x157", "jpg", "jpeg", "JPEG 4:4:4 q90", lambda p: Image.fromarray(ph).save(p, quality=90, subsampling=0))
    save("jprog_203x157", "jpg", "jpeg", "progressive JPEG 4:2:0 q85", lambda p: Image.fromarray(ph).save(p, quality=85, progressive=True))
    save("jgray_203x157", "jpg", "jpeg", "grayscale JPEG", lambda p: Image.fromarray(ph[..., 1]).save(p, quality=90))
    cmyk = np.dstack([255 - ph, np.tile(np.linspace(0, 200, 203).astype(np.uint8), (157, 1))])
    save("jcmyk_203x157", "jpg", "jpeg", "Adobe CMYK JPEG (inverted), K ramp",
         lambda p: Image.fromarray(cmyk, "CMYK").save(p, quality=92, subsampling=0))
    narrow = photo(37, 4, 32)
    save("j420_4x37", "jpg", "jpeg", "JPEG 4:2:0 4 wide (2 chroma columns: libjpeg's plain upsampling)",
         lambda p: Image.fromarray(narrow).save(p, quality=90, subsampling=2))
    save("j420_3x37", "jpg", "jpeg", "JPEG 4:2:0 3 wide", lambda p: Image.fromarray(narrow[:, :3].copy()).save(p, quality=90, subsampling=2))
    if shutil.which("cjpeg"):
        # Pillow cannot write 4:4:0 or 4:1:1; libjpeg-turbo's cjpeg can.
        def cjpeg(sample):
            def w(p):
                with tempfile.NamedTemporaryFile(suffix=".ppm") as t:
                    Image.fromarray(ph).save(t.name)
                    subprocess.run(["cjpeg", "-quality", "90", "-sample", sample, "-outfile", p, t.name], check=True)
            return w

        save("j440_203x157", "jpg", "jpeg", "JPEG 4:4:0 (cjpeg -sample 1x2)", cjpeg("1x2"))
        save("j411_203x157", "jpg", "jpeg", "JPEG 4:1:1 (cjpeg -sample 4x1)", cjpeg("4x1"))
    ph2 = photo(240, 320, 31)
    save("j420_320x240", "jpg", "jpeg", "JPEG 4:2:0 q85, photo-like 320x240", lambda p: Image.fromarray(ph2).save(p, quality=85))
    for o in (3, 6, 8):
        save(f"jpeg_orient{o}", "jpg", "jpeg", f"JPEG 4:2:0 with EXIF orientation {o}",
             lambda p, o=o: Image.fromarray(photo(72, 104, 40 + o)).save(p, quality=90, exif=exif(o)))

    gif_idx = (photo(50, 70, 50)[..., 0] // 16).astype(np.uint8)

    def gif(p):
        im = Image.fromarray(gif_idx, "P")
        im.putpalette(rng.integers(0, 256, 48).astype(np.uint8).tolist())
        im.save(p, transparency=3, background=5)

    save("gif_trns_70x50", "gif", "lossless", "GIF, transparent index 3, background 5", gif)
    wp = photo(60, 90, 60)
    save("webp_lossless_90x60", "webp", "lossless", "lossless WebP", lambda p: Image.fromarray(wp).save(p, lossless=True))
    save("webp_lossy_91x61", "webp", "webp", "lossy WebP q80, odd size",
         lambda p: Image.fromarray(photo(61, 91, 61)).save(p, quality=80))
    wa = np.dstack([photo(60, 90, 62), np.tile(np.linspace(0, 255, 90).astype(np.uint8), (60, 1))])
    save("webp_lossy_alpha_90x60", "webp", "webp", "lossy WebP q80 with alpha",
         lambda p: Image.fromarray(wa, "RGBA").save(p, quality=80))
    save("webp_orient6", "webp", "lossless", "lossless WebP with EXIF orientation 6",
         lambda p: Image.fromarray(photo(40, 56, 63)).save(p, lossless=True, exif=exif(6)))
    save("bmp_75x50", "bmp", "lossless", "24-bit BMP", lambda p: Image.fromarray(photo(50, 75, 70)).save(p))
    save("tiff_75x50", "tif", "lossless", "uncompressed RGB TIFF", lambda p: Image.fromarray(photo(50, 75, 71)).save(p))
    save("tiff_orient6", "tif", "lossless", "TIFF with Orientation tag 6",
         lambda p: Image.fromarray(photo(40, 56, 72)).save(p, tiffinfo={274: 6}))
    return fx


# ---------------------------------------------------------------- reference


def unpatchify(pv, h, w, p=16, m=2, t=2):
    """pixel_values [gh*gw, 3*t*p*p] -> [3, h, w] (frame 0) and frame 1."""
    gh, gw = h // p, w // p
    x = pv.reshape(gh // m, gw // m, m, m, 3, t, p, p)
    # -> [3, t, gh/m, m, p, gw/m, m, p]
    x = x.transpose(4, 5, 0, 2, 6, 1, 3, 7).reshape(3, t, h, w)
    return x[:, 0], x[:, 1]


LUT_DEFAULT = (np.arange(256, dtype=np.float32) - np.float32(127.5)) / np.float32(127.5)
LUT_PIL = ((np.arange(256).astype(np.float64) * (1 / 255)).astype(np.float32) - np.float32(0.5)) / np.float32(0.5)


def levels(frame0, frame1, lut):
    """Recover uint8 levels from normalised values and prove it exact."""
    if not np.array_equal(frame0, frame1):
        raise SystemExit("temporal copies differ")
    lv = np.clip(np.round(frame0 * 127.5 + 127.5), 0, 255).astype(np.uint8)
    if not np.array_equal(lut[lv], frame0):
        raise SystemExit("pixel_values are not an exact normalisation of uint8 levels")
    return lv.transpose(1, 2, 0).copy()


def smart_resize_cases():
    """smart_resize on many sizes and budgets -> testdata/imageproc/smart_resize.json."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    rng = np.random.default_rng(99)
    sizes = [(1, 1), (1, 200), (200, 1), (1, 201), (2, 398), (2, 402), (300, 400), (16, 16), (48, 48), (80, 112),
             (3000, 4000), (4000, 3000), (4096, 4096), (5000, 20), (20, 4000), (31, 17), (100000, 1000)]
    for _ in range(400):
        h = int(rng.integers(1, 5000))
        w = int(rng.integers(max(1, h // 200), min(h * 200, 10000) + 1))
        sizes.append((h, w) if rng.integers(2) else (w, h))
    # round-half-to-even ties: multiples of 16 that are odd multiples of 16
    sizes += [(16 * k, 16 * j) for k in (1, 3, 5, 7, 9) for j in (1, 2, 3, 5)]
    budgets = [(65536, 16777216, 32), (1024, 8192, 32), (3136, 1003520, 28), (56 * 56, 28 * 28 * 1280, 28), (256, 256, 16)]
    cases = []
    for h, w in sizes:
        for mn, mx, f in budgets:
            try:
                rh, rw = smart_resize(h, w, factor=f, min_pixels=mn, max_pixels=mx)
                cases.append([h, w, f, mn, mx, rh, rw])
            except ValueError:
                cases.append([h, w, f, mn, mx, -1, -1])
    with open(os.path.join(OUT, "smart_resize.json"), "w") as fh:
        json.dump({"comment": "[height, width, factor, min_pixels, max_pixels, out_h, out_w]; -1 = ValueError", "cases": cases}, fh)
        fh.write("\n")


def resize_matrix():
    """One image resized to many sizes by both backends' resizers."""
    import torchvision.transforms.v2.functional as tvF

    src = np.concatenate([noise(41, 27, 100), gradient(41, 26)], axis=1)  # 53x41: noise | gradient
    targets = [(1, 3), (3, 1), (2, 3), (7, 5), (26, 20), (52, 41), (53, 100), (200, 41), (106, 82), (159, 123), (300, 17),
               (13, 250), (18, 14), (40, 30), (54, 42), (64, 32), (96, 160)]
    t = torch.from_numpy(src).permute(2, 0, 1).contiguous()
    tensors = {"src": src}
    for w, h in targets:
        tv = tvF.resize(t, [h, w], interpolation=tvF.InterpolationMode.BICUBIC, antialias=True)
        tensors[f"torchvision.{w}x{h}"] = tv.permute(1, 2, 0).numpy().copy()
        tensors[f"pillow.{w}x{h}"] = np.asarray(Image.fromarray(src).resize((w, h), Image.Resampling.BICUBIC)).copy()
    save_file(tensors, os.path.join(OUT, "resize_matrix.safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    smart_resize_cases()
    resize_matrix()
    fx = make_inputs()
    for name, cfg in CONFIGS.items():
        d = os.path.join(OUT, f"config_{name}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
            json.dump({**cfg, **COMMON}, f, indent=2, sort_keys=True)
            f.write("\n")
    procs = {
        (c, b): AutoImageProcessor.from_pretrained(os.path.join(OUT, f"config_{c}"), **({"backend": "pil"} if b == "pil" else {}))
        for c in CONFIGS
        for b in ("default", "pil")
    }
    for (c, b), p in procs.items():
        assert p.backend == ("pil" if b == "pil" else "torchvision"), p.backend
    os.makedirs(GOLDEN, exist_ok=True)
    manifest = {
        "versions": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "libwebp": features.version("webp"),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cjpeg": subprocess.run(["cjpeg", "-version"], capture_output=True, text=True).stderr.strip() if shutil.which("cjpeg") else None,
        },
        "pixel_values_lut_default_equals_pil": bool(np.array_equal(LUT_DEFAULT, LUT_PIL)),
        "fixtures": {},
    }
    for name, info in sorted(fx.items()):
        path = os.path.join(INPUTS, info["file"])
        tensors = {}
        feed = {}
        # What each backend decodes from the file path.
        pil_img = load_image(path)
        # The PIL backend's process_image runs convert_to_rgb on it, which
        # composites onto white when info["transparency"] survived load_image's
        # convert("RGB") (colour-key transparency: GIF, PNG tRNS on L/RGB).
        pil_dec = convert_to_rgb(pil_img, return_numpy=True)
        feed["pil"] = path
        try:
            t = load_image_as_tensor(path)
            if t.dtype == torch.uint8:
                tensors["default.decoded"] = t.permute(1, 2, 0).numpy().copy()
                feed["default"] = path
            else:
                # torchvision returns uint16 for 16-bit PNGs; the processor then
                # normalises them as if they were 8-bit (values up to ~513).
                with warnings.catch_warnings():
                    raw = procs[("small", "default")](images=path, return_tensors="np")["pixel_values"]
                info["default_path_note"] = (
                    f"torchvision decodes {t.dtype}; the default backend's pixel_values reach "
                    f"{float(raw.max()):.1f} (broken). Golden made from the high byte of each sample."
                )
                arr = t.permute(1, 2, 0).numpy().astype(np.uint16)
                hb = (arr >> 8).astype(np.uint8)
                tensors["default.decoded"] = hb.copy()
                feed["default"] = Image.fromarray(hb)
        except Exception as e:  # BMP, TIFF: torchvision cannot decode them
            info["default_path_note"] = f"torchvision cannot decode this file ({str(e).splitlines()[0][:80]}); default backend fed load_image(path)"
            tensors["default.decoded"] = convert_to_rgb(pil_img, return_numpy=True)
            feed["default"] = pil_img
        info["decoded_backends_equal"] = bool(
            tensors["default.decoded"].shape == pil_dec.shape and np.array_equal(tensors["default.decoded"], pil_dec)
        )
        if not info["decoded_backends_equal"]:
            tensors["pil.decoded"] = pil_dec.copy()
        if name in PLAIN:
            if not np.array_equal(tensors["default.decoded"], np.asarray(Image.open(path).convert("RGB"))):
                raise SystemExit(f"{name}: decoded image is not the file's pixels")
            del tensors["default.decoded"]
        info["results"] = {}
        for (c, b), proc in procs.items():
            key = f"{c}.{b}"
            try:
                out = proc(images=feed[b], return_tensors="np")
            except Exception as e:
                info["results"][key] = {"error": f"{type(e).__name__}: {e}"}
                continue
            pv = np.asarray(out["pixel_values"], dtype=np.float32)
            grid = np.asarray(out["image_grid_thw"], dtype=np.int64)[0]
            h, w = int(grid[1]) * 16, int(grid[2]) * 16
            f0, f1 = unpatchify(pv, h, w)
            lv = levels(f0, f1, LUT_DEFAULT if b == "default" else LUT_PIL)
            tensors[f"{key}.grid"] = grid
            stored = []
            if c == "small" or (b == "default" and name in CKPT_RESIZED):
                tensors[f"{key}.resized"] = lv
                stored.append("resized")
            if (name, c) in PIXEL_VALUES and b == "default":
                tensors[f"{key}.pixel_values"] = pv
                stored.append("pixel_values")
            info["results"][key] = {"grid": grid.tolist(), "stored": stored}
        save_file(tensors, os.path.join(GOLDEN, f"{name}.safetensors"))
        manifest["fixtures"][name] = info
        print(name, {k: v.get("grid", v.get("error", "")[:40]) for k, v in info["results"].items()}, file=sys.stderr)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
