#!/usr/bin/env python3
"""Cross-check of testdata/text/<family>/ with an independent float64 numpy text decoder.

Written from a plain description of the Qwen3-VL text decoder (no transformers import): RMSNorm,
GQA attention with per-head q/k RMSNorm and interleaved MRoPE, SwiGLU MLP, DeepStack additions
after the first layers, final norm, tied lm_head. The weights are regenerated with synth.py;
the visual inputs (inputs_embeds at the visual rows, DeepStack features) are read from the golden.
The prompt plus the 32 generated tokens are run as one causal sequence with no cache, the
generated tokens at MRoPE position (text position + rope_deltas) on all three axes. Reports the
relative error of every stored hidden state and logit against the golden; a consistency check
of the fixtures, not a fixture producer.

    tools/reference/.venv/bin/python tools/reference/text_sheet.py [--family tiny] [--bugs]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

import synth  # noqa: E402

# Known mistakes, switched on one at a time by --bugs to show the goldens catch them.
BUG = {"mrope_chunked": False, "no_deepstack": False, "decode_no_delta": False, "no_qk_norm": False}


def text_weights(tc: dict, seed: int) -> dict:
    H, I, V = tc["hidden_size"], tc["intermediate_size"], tc["vocab_size"]
    nh, nkv, hd = tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"]
    p = "model.language_model."
    shapes = {p + "embed_tokens.weight": (V, H), p + "norm.weight": (H,)}
    for i in range(tc["num_hidden_layers"]):
        lp = f"{p}layers.{i}."
        shapes.update(
            {
                lp + "input_layernorm.weight": (H,),
                lp + "post_attention_layernorm.weight": (H,),
                lp + "self_attn.q_proj.weight": (nh * hd, H),
                lp + "self_attn.k_proj.weight": (nkv * hd, H),
                lp + "self_attn.v_proj.weight": (nkv * hd, H),
                lp + "self_attn.o_proj.weight": (H, nh * hd),
                lp + "self_attn.q_norm.weight": (hd,),
                lp + "self_attn.k_norm.weight": (hd,),
                lp + "mlp.gate_proj.weight": (I, H),
                lp + "mlp.up_proj.weight": (I, H),
                lp + "mlp.down_proj.weight": (H, I),
            }
        )
    out = {}
    for name, shape in shapes.items():
        _, stream, scale, offset = synth.text_weight_rule(name, shape)
        out[name[len(p) :]] = synth.tensor(shape, seed, stream, scale, offset).astype(np.float64)
    return out


def rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope_tables(pos3: np.ndarray, tc: dict):
    """cos, sin [L, hd] for MRoPE positions pos3 [3, L] (t, h, w), interleaved sections."""
    hd = tc["head_dim"]
    rp = tc["rope_parameters"]
    sec = rp["mrope_section"]
    assert rp.get("mrope_interleaved", False)
    half = hd // 2
    inv = 1.0 / rp["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd)  # [half]
    axis = np.zeros(half, dtype=np.int64)  # frequency j uses t (0), h (1) or w (2)
    axis[1 : sec[1] * 3 : 3] = 1
    axis[2 : sec[2] * 3 : 3] = 2
    if BUG["mrope_chunked"]:  # Qwen2-VL's contiguous sections instead of the interleave
        axis = np.repeat(np.arange(3), sec)
    pos = pos3[axis, :].T.astype(np.float64)  # [L, half]
    ang = pos * inv
    ang = np.concatenate([ang, ang], -1)
    return np.cos(ang), np.sin(ang)


def rotate(x, cos, sin):
    h = x.shape[-1] // 2
    rot = np.concatenate([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


def forward(emb_in, pos3, w, tc, deepstack, vis_rows):
    """emb_in [L, H] float64 -> per-layer hidden [n][L, H], normed [L, H]."""
    L, H = emb_in.shape
    nh, nkv, hd, eps = tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"], tc["rms_norm_eps"]
    cos, sin = rope_tables(pos3, tc)
    cos, sin = cos[:, None, :], sin[:, None, :]
    mask = np.triu(np.full((L, L), -np.inf), 1)
    h = emb_in.copy()
    hidden = []
    for i in range(tc["num_hidden_layers"]):
        lp = f"layers.{i}."
        x = rms(h, w[lp + "input_layernorm.weight"], eps)
        q = (x @ w[lp + "self_attn.q_proj.weight"].T).reshape(L, nh, hd)
        k = (x @ w[lp + "self_attn.k_proj.weight"].T).reshape(L, nkv, hd)
        v = (x @ w[lp + "self_attn.v_proj.weight"].T).reshape(L, nkv, hd)
        if not BUG["no_qk_norm"]:
            q = rms(q, w[lp + "self_attn.q_norm.weight"], eps)
            k = rms(k, w[lp + "self_attn.k_norm.weight"], eps)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        o = np.empty((L, nh, hd))
        g = nh // nkv
        for a in range(nh):
            s = q[:, a, :] @ k[:, a // g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            o[:, a, :] = s @ v[:, a // g, :]
        h = h + o.reshape(L, nh * hd) @ w[lp + "self_attn.o_proj.weight"].T
        x = rms(h, w[lp + "post_attention_layernorm.weight"], eps)
        gate = x @ w[lp + "mlp.gate_proj.weight"].T
        up = x @ w[lp + "mlp.up_proj.weight"].T
        h = h + (gate / (1 + np.exp(-gate)) * up) @ w[lp + "mlp.down_proj.weight"].T
        if i < len(deepstack) and not BUG["no_deepstack"]:
            h[vis_rows] += deepstack[i]
        hidden.append(h.copy())
    return hidden, rms(h, w["norm.weight"], eps)


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def check_case(folder: Path, case: dict, tc: dict, w: dict, image_token: int, video_token: int) -> dict:
    t = load_file(str(folder / case["file"]))
    L = case["prompt_length"]
    steps = case["decode_steps"]
    ids = case["input_ids"] + case["generated_ids"][:steps]
    vis_rows = [i for i, x in enumerate(case["input_ids"]) if x in (image_token, video_token)]
    emb = w["embed_tokens.weight"][ids]
    deepstack = []
    if vis_rows:
        visual = t["inputs_embeds"][vis_rows] if "inputs_embeds" in t else t["inputs_embeds.visual"]
        emb[vis_rows] = visual.astype(np.float64)
        deepstack = [t[f"deepstack.{k}"].astype(np.float64) for k in range(3) if f"deepstack.{k}" in t]
    pos_prompt = np.array(case["position_ids"], dtype=np.int64)
    gen_pos = np.arange(L, L + steps) + case["rope_deltas"]
    for j, p in enumerate(case["decode_position_ids"][:steps]):
        assert p == [L + j] + [int(gen_pos[j])] * 3, (case["name"], j, p)
    if BUG["decode_no_delta"]:
        gen_pos = np.arange(L, L + steps)
    pos3 = np.concatenate([pos_prompt, np.stack([gen_pos] * 3)], 1)
    hidden, normed = forward(emb, pos3, w, tc, deepstack, vis_rows)
    res = {}
    if "inputs_embeds" in t:
        res["inputs_embeds"] = rel(emb[:L], t["inputs_embeds"].astype(np.float64))
        for i, h in enumerate(hidden):
            res[f"hidden.{i}"] = rel(h[:L], t[f"hidden.{i}"].astype(np.float64))
        res["hidden.norm"] = rel(normed[:L], t["hidden.norm"].astype(np.float64))
    else:
        for i, h in enumerate(hidden):
            res[f"hidden.{i}.last"] = rel(h[L - 1], t[f"hidden.{i}.last"].astype(np.float64))
        res["hidden.norm.last"] = rel(normed[L - 1], t["hidden.norm.last"].astype(np.float64))
    E = w["embed_tokens.weight"]
    sub = t["subset_ids"]
    scale = float(np.abs(t["logits_subset"]).max())
    err_sub = err_max = err_lse = 0.0
    argmax_ok = True
    for r0 in range(0, normed.shape[0], 64):
        lg = normed[r0 : r0 + 64] @ E.T
        rows = slice(r0, r0 + lg.shape[0])
        err_sub = max(err_sub, float(np.abs(lg[:, sub] - t["logits_subset"][rows]).max()))
        err_max = max(err_max, float(np.abs(lg.max(-1) - t["logits_max"][rows]).max()))
        m = lg.max(-1, keepdims=True)
        lse = (m[:, 0] + np.log(np.exp(lg - m).sum(-1)))
        err_lse = max(err_lse, float(np.abs(lse - t["logits_lse"][rows]).max()))
        argmax_ok &= bool(np.array_equal(lg.argmax(-1), t["logits_argmax"][rows]))
    res["logits_subset"] = err_sub / scale
    res["logits_max"] = err_max / scale
    res["logits_lse"] = err_lse / scale
    res["argmax_equal"] = argmax_ok
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="tiny")
    ap.add_argument("--bugs", action="store_true", help="also run each known mistake on the image case")
    args = ap.parse_args()
    folder = REPO / "testdata" / "text" / args.family
    cfg = json.loads((folder / "config.json").read_text())
    doc = json.loads((folder / "cases.json").read_text())
    tc = cfg["text_config"]
    w = text_weights(tc, doc["weights_seed"])
    worst = 0.0
    for case in doc["cases"]:
        res = check_case(folder, case, tc, w, cfg["image_token_id"], cfg["video_token_id"])
        worst = max([worst] + [v for v in res.values() if isinstance(v, float)])
        print(case["name"], json.dumps({k: (f"{v:.2e}" if isinstance(v, float) else v) for k, v in res.items()}))
        assert res["argmax_equal"], case["name"]
        assert worst < 1e-5, (case["name"], worst)
    print(f"worst relative error (max abs error / max abs value): {worst:.2e}")
    if args.bugs:
        case = next(c for c in doc["cases"] if c["name"] == "image")
        for bug in BUG:
            BUG[bug] = True
            res = check_case(folder, case, tc, w, cfg["image_token_id"], cfg["video_token_id"])
            BUG[bug] = False
            print(f"bug {bug}: logits_subset rel {res['logits_subset']:.2e}, hidden.norm rel "
                  f"{res.get('hidden.norm', res.get('hidden.norm.last')):.2e}, argmax equal {res['argmax_equal']}")


if __name__ == "__main__":
    main()
