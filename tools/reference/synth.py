"""Deterministic synthetic tensors, bit-identical to the Go package internal/synth.

The stream for a tensor named ``name`` under seed ``s`` is splitmix64 started at state
``s XOR fnv1a64(name)`` (FNV-1a 64 over the UTF-8 bytes). Value i (0-based) takes the
(i+1)-th output z and maps it to

    u = float32(int64(z >> 40) - 2**23) * 2**-23      exact, u in [-1, 1)
    v = float32(float32(scale) * u) + float32(offset) two float32 roundings, in that order

Everything is integer arithmetic mod 2**64 or a single correctly rounded float32 operation,
so numpy (vectorised, uint64 wrapping) and Go give the same bits.

This module also holds the rules that fill every tensor of a Qwen3-VL vision tower
(see ``weight_rule``), and ``self_test`` which pins the stream.

Run ``python synth.py`` to execute the self-test.
"""

from __future__ import annotations

import math

import numpy as np

MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB

# Elements generated per numpy chunk: small enough that the temporaries stay in cache.
_CHUNK = 1 << 16


def fnv1a64(name: str) -> int:
    h = FNV_OFFSET
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def fill(count: int, seed: int, name: str, scale: float, offset: float) -> np.ndarray:
    """Return ``count`` float32 values of stream (seed, name) as float32(scale*u) + offset."""
    state0 = (int(seed) ^ fnv1a64(name)) & MASK64
    out = np.empty(count, dtype=np.float32)
    s = np.float32(scale)
    o = np.float32(offset)
    n = min(_CHUNK, count)
    # steps[i] = (i+1)*GAMMA mod 2**64: the increment from the chunk's base state to value i.
    with np.errstate(over="ignore"):
        steps = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GAMMA)
    z = np.empty(n, dtype=np.uint64)
    t = np.empty(n, dtype=np.uint64)
    i64 = np.empty(n, dtype=np.int64)
    f = np.empty(n, dtype=np.float32)
    sh30, sh27, sh31, sh40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)
    m1, m2 = np.uint64(MIX1), np.uint64(MIX2)
    with np.errstate(over="ignore"):
        for start in range(0, count, _CHUNK):
            k = min(_CHUNK, count - start)
            zz, tt, ii, ff = z[:k], t[:k], i64[:k], f[:k]
            base = np.uint64((state0 + start * GAMMA) & MASK64)  # state before value `start`
            np.add(steps[:k], base, out=zz)  # state after (start+i+1) increments, wrapping
            np.right_shift(zz, sh30, out=tt)
            np.bitwise_xor(zz, tt, out=zz)
            np.multiply(zz, m1, out=zz)
            np.right_shift(zz, sh27, out=tt)
            np.bitwise_xor(zz, tt, out=zz)
            np.multiply(zz, m2, out=zz)
            np.right_shift(zz, sh31, out=tt)
            np.bitwise_xor(zz, tt, out=zz)
            np.right_shift(zz, sh40, out=zz)  # top 24 bits, < 2**24
            np.subtract(zz.view(np.int64), np.int64(1 << 23), out=ii)  # in [-2**23, 2**23)
            np.multiply(ii, np.float32(2.0**-23), out=ff, dtype=np.float32, casting="unsafe")  # exact
            o_chunk = out[start : start + k]
            np.multiply(ff, s, out=o_chunk)  # float32 product, rounded
            np.add(o_chunk, o, out=o_chunk)  # float32 sum, rounded
    return out


def tensor(shape, seed: int, name: str, scale: float, offset: float) -> np.ndarray:
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    return fill(count, seed, name, scale, offset).reshape(tuple(shape))


def _fill_slow(count: int, seed: int, name: str, scale: float, offset: float) -> list[int]:
    """Reference implementation with Python integers; returns float32 bit patterns."""
    state = (seed ^ fnv1a64(name)) & MASK64
    out = []
    for _ in range(count):
        state = (state + GAMMA) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        z ^= z >> 31
        u = np.float32((z >> 40) - (1 << 23)) * np.float32(2.0**-23)
        v = np.float32(np.float32(scale) * u) + np.float32(offset)
        out.append(int(np.float32(v).view(np.uint32)))
    return out


PINNED = [0x3F0702F8, 0xBF5FE64C, 0xBEACF16C, 0xBF2734DC]


def self_test() -> None:
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    got = [int(x) for x in fill(4, 0, "", 1.0, 0.0).view(np.uint32)]
    assert got == PINNED, [hex(x) for x in got]
    assert _fill_slow(4, 0, "", 1.0, 0.0) == PINNED
    # Vectorised vs scalar, across a chunk boundary, with a non-trivial scale/offset and name.
    global _CHUNK
    saved = _CHUNK
    try:
        _CHUNK = 7
        for seed, name, scale, offset in [
            (1, "blocks.0.attn.qkv.weight", float(np.float32(1 / math.sqrt(64))), 0.0),
            (2**63 + 5, "merger.norm.weight", 0.1, 1.0),
            (3, "pos_embed.weight", 1.0, 0.0),
            (4, "x.bias", 0.02, 0.0),
        ]:
            fast = [int(x) for x in fill(23, seed, name, scale, offset).view(np.uint32)]
            assert fast == _fill_slow(23, seed, name, scale, offset), name
    finally:
        _CHUNK = saved
    r = fill(100000, 42, "x", 0.5, 1.0)
    assert r.min() >= 0.5 and r.max() < 1.5 and abs(float(r.mean()) - 1) < 0.01


# ---------------------------------------------------------------------------------------------
# Qwen3-VL vision tower weights
# ---------------------------------------------------------------------------------------------


def weight_rule(name: str, shape) -> tuple[str, float, float]:
    """(rule id, scale, offset) for a vision-tower tensor (name without ``model.visual.``)."""
    shape = tuple(int(s) for s in shape)
    if name.endswith(".bias"):
        return "bias", 0.02, 0.0
    if name == "pos_embed.weight":
        return "pos_embed", 1.0, 0.0
    if name.endswith(".weight") and len(shape) == 1:
        return "norm_weight", 0.1, 1.0
    if name.endswith(".weight") and len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        return "matrix_weight", float(np.float32(1.0 / math.sqrt(fan_in))), 0.0
    raise KeyError(f"no synthetic-weight rule covers tensor {name!r} with shape {shape}")


ALL_RULES = ("bias", "pos_embed", "norm_weight", "matrix_weight")


def tower_weights(shapes: dict, seed: int) -> dict:
    """Fill every tensor of a vision tower. ``shapes`` maps name -> shape (the model's state_dict).

    Raises if a tensor is not covered by the rules or if a rule is never used.
    """
    out = {}
    used = set()
    for name, shape in shapes.items():
        rule, scale, offset = weight_rule(name, shape)
        used.add(rule)
        out[name] = tensor(shape, seed, name, scale, offset)
    unused = set(ALL_RULES) - used
    if unused:
        raise RuntimeError(f"synthetic-weight rules never used: {sorted(unused)}")
    return out


# ---------------------------------------------------------------------------------------------
# Qwen3-VL full model (Qwen3VLForConditionalGeneration) weights
# ---------------------------------------------------------------------------------------------

VISUAL_PREFIX = "model.visual."
TEXT_PREFIX = "model.language_model."


def text_weight_rule(name: str, shape) -> tuple[str, str, float, float]:
    """(rule id, stream name, scale, offset) for a tensor of Qwen3VLForConditionalGeneration's
    state_dict, by its full name.

    ``model.visual.*``: the vision rules of ``weight_rule``, on the name without the prefix (which
    is also the stream name). ``model.language_model.*`` (stream name = full name): 1-D
    ``*norm.weight`` scale 0.1 offset 1; ``embed_tokens.weight`` scale 1 offset 0; other 2-D
    ``*.weight`` float32(1/sqrt(fan_in)) offset 0 (the MoE router ``mlp.gate.weight`` [E, H] among
    them); 3-D ``mlp.experts.gate_up_proj`` / ``mlp.experts.down_proj`` **in the released
    checkpoint layout** [E, in, out] (``gate_up_proj`` [E, H, 2I], ``down_proj`` [E, I, H]: the
    transpose of the modules' [E, out, in]) float32(1/sqrt(shape[1])) offset 0. An untied
    ``lm_head.weight`` [V, H] (stream name ``lm_head.weight``) float32(1/sqrt(H)) offset 0; a tied
    one is ``model.language_model.embed_tokens.weight`` and is not drawn.
    """
    shape = tuple(int(s) for s in shape)
    if name == "lm_head.weight" and len(shape) == 2:
        return "lm_head", name, float(np.float32(1.0 / math.sqrt(shape[1]))), 0.0
    if name.startswith(VISUAL_PREFIX):
        short = name[len(VISUAL_PREFIX) :]
        rule, scale, offset = weight_rule(short, shape)
        return "visual." + rule, short, scale, offset
    if name.startswith(TEXT_PREFIX):
        if name == TEXT_PREFIX + "embed_tokens.weight" and len(shape) == 2:
            return "text.embed_tokens", name, 1.0, 0.0
        if name.endswith("norm.weight") and len(shape) == 1:
            return "text.norm_weight", name, 0.1, 1.0
        if name.endswith(".weight") and len(shape) == 2:
            return "text.matrix_weight", name, float(np.float32(1.0 / math.sqrt(shape[1]))), 0.0
        if name.endswith((".mlp.experts.gate_up_proj", ".mlp.experts.down_proj")) and len(shape) == 3:
            return "text.experts", name, float(np.float32(1.0 / math.sqrt(shape[1]))), 0.0
    raise KeyError(f"no synthetic-weight rule covers tensor {name!r} with shape {shape}")


ALL_MODEL_RULES = tuple("visual." + r for r in ALL_RULES) + ("text.embed_tokens", "text.norm_weight", "text.matrix_weight")


def model_weights(shapes: dict, seed: int, required=ALL_MODEL_RULES) -> dict:
    """Fill every tensor of a Qwen3VLForConditionalGeneration / Qwen3VLMoeForConditionalGeneration
    (full names; ``lm_head.weight`` only when untied; expert tensors in the checkpoint layout).
    Raises on an uncovered tensor or on a rule of ``required`` never used."""
    out = {}
    used = set()
    for name, shape in shapes.items():
        rule, stream, scale, offset = text_weight_rule(name, shape)
        used.add(rule)
        out[name] = tensor(shape, seed, stream, scale, offset)
    unused = set(required) - used
    if unused:
        raise RuntimeError(f"synthetic-weight rules never used: {sorted(unused)}")
    return out


def pixels(n: int, seed: int, patch_dim: int = 1536) -> np.ndarray:
    return tensor((n, patch_dim), seed, "pixel_values", 1.0, 0.0)


if __name__ == "__main__":
    import time

    self_test()
    t = time.time()
    a = fill(50_000_000, 7, "speed", 0.03, 0.0)
    print(f"self-test ok; 50M values in {time.time() - t:.2f}s (checksum {float(a.astype(np.float64).sum()):.6f})")
