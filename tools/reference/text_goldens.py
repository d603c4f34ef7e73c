#!/usr/bin/env python3
"""Goldens for the Qwen3-VL text decoder and greedy generation, from the pinned transformers.

A random Qwen3VLForConditionalGeneration (float32, CPU) with synthetic weights from synth.py
(`synth.text_weight_rule`, seed 7; regenerated bit for bit by Go's internal/synth) is run on
prompts made with the real Qwen3-VL chat template and tokenizer through Qwen3VLProcessor:

- the processor's expanded input_ids, attention_mask, grids, and get_rope_index's positions;
- the logits of a full prefill forward at every prompt position, and the logits of 32 decode
  steps of `generate` (KV cache), on a fixed vocabulary subset, plus full-vocab argmax / max /
  logsumexp per position;
- 64 greedy tokens (eos disabled) and the top-1 minus top-2 logit margin per step;
- debugging tensors: inputs_embeds after the visual scatter, the hidden state after every
  decoder layer (after the DeepStack addition), the final normed hidden state, the DeepStack
  features and the decode position ids generate fed the text model.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/text_goldens.py            # family tiny
    tools/reference/.venv/bin/python tools/reference/text_goldens.py --family 2b-short
    tools/reference/.venv/bin/python tools/reference/text_goldens.py --family tiny-untied
    tools/reference/.venv/bin/python tools/reference/text_goldens.py --family tiny-moe

tiny-untied has its own lm_head.weight; tiny-moe is Qwen3VLMoeForConditionalGeneration (fused
experts drawn in the released [E, in, out] layout, transposed into the modules; routing tensors
stored per sparse layer).

Outputs (testdata/text/<family>/): config.json, tokenizer/processor files (a checkpoint folder
without weights), cases.json, <case>.safetensors. testdata/text/README.md is hand-written.
Deterministic: a rerun gives byte-identical files.
"""

from __future__ import annotations

import argparse
import copy
import functools
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "text"
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoProcessor  # noqa: E402
from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLConfig  # noqa: E402
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLForConditionalGeneration  # noqa: E402
from transformers.models.qwen3_vl_moe.configuration_qwen3_vl_moe import Qwen3VLMoeConfig  # noqa: E402
from transformers.models.qwen3_vl_moe.modeling_qwen3_vl_moe import Qwen3VLMoeForConditionalGeneration  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import make_goldens as mg  # noqa: E402  (versions, deterministic safetensors writer)
import synth  # noqa: E402

hf_logging.set_verbosity_error()
mg._ST_DTYPES.setdefault(torch.float64, "F64")  # logits_lse

GENERATOR = "tools/reference/text_goldens.py"
WEIGHTS_SEED = 7
SUBSET_SEED = 15
K = 512
THREADS = 2

TOKENIZER_DIR = REPO / "testdata" / "tokenizer" / "qwen3vl"
IMAGE_PREPROC = REPO / "testdata" / "imageproc" / "config_ckpt" / "preprocessor_config.json"
VIDEO_PREPROC = REPO / "testdata" / "video" / "config_ckpt" / "video_preprocessor_config.json"
IMAGES = REPO / "testdata" / "imageproc" / "inputs"
FRAMES = REPO / "testdata" / "video" / "inputs"

IMAGE_TOKEN, VIDEO_TOKEN, VISION_START, VISION_END = 151655, 151656, 151652, 151653
PAD = 151643  # <|endoftext|>, generation_config.json's pad_token_id

ROPE = {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20], "mrope_interleaved": True}

TINY_TEXT = dict(
    vocab_size=151936,
    hidden_size=64,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=128,
    intermediate_size=128,
    num_hidden_layers=4,
)
TINY_VISION = dict(
    depth=4,
    hidden_size=64,
    num_heads=4,
    intermediate_size=200,
    out_hidden_size=64,
    num_position_embeddings=36,
    deepstack_visual_indexes=[1, 2, 3],
)
TINY_CASES = ["text", "image", "two-images", "video", "multiturn"]

FAMILIES = {
    "tiny": dict(
        text=TINY_TEXT,
        vision=TINY_VISION,
        cases=TINY_CASES,
        decode_steps=32,
        generate_tokens=64,
        full_hidden=True,
    ),
    # tiny with its own output projection (lm_head.weight drawn from its own stream): the tied
    # tiny model repeats the prompt's last token, this one does not.
    "tiny-untied": dict(
        text=TINY_TEXT,
        vision=TINY_VISION,
        cases=TINY_CASES,
        decode_steps=32,
        generate_tokens=64,
        full_hidden=True,
        tied=False,
    ),
    # The MoE decoder (Qwen3VLMoeForConditionalGeneration) at tiny width: 8 experts, top-2, every
    # layer sparse but layer 1 (mlp_only_layers), untied; moe_intermediate_size 48 so that no
    # expert tensor is square (a transposed read cannot pass by accident).
    "tiny-moe": dict(
        text=dict(
            TINY_TEXT,
            num_experts=8,
            num_experts_per_tok=2,
            moe_intermediate_size=48,
            decoder_sparse_step=1,
            mlp_only_layers=[1],
            norm_topk_prob=True,
        ),
        vision=TINY_VISION,
        cases=TINY_CASES,
        decode_steps=32,
        generate_tokens=64,
        full_hidden=True,
        tied=False,
        moe=True,
    ),
    # The 2B text shapes at reduced depth, the released 2B vision tower (Qwen3-VL-2B-Instruct).
    "2b-short": dict(
        text=dict(
            vocab_size=151936,
            hidden_size=2048,
            num_attention_heads=16,
            num_key_value_heads=8,
            head_dim=128,
            intermediate_size=6144,
            num_hidden_layers=2,
        ),
        vision=dict(
            depth=24,
            hidden_size=1024,
            num_heads=16,
            intermediate_size=4096,
            out_hidden_size=2048,
            num_position_embeddings=2304,
            deepstack_visual_indexes=[5, 11, 17],
        ),
        cases=["text", "image"],
        decode_steps=16,
        generate_tokens=32,
        full_hidden=False,
    ),
}


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------------------------
# config, folder, processor, model
# ---------------------------------------------------------------------------------------------


def make_config(fam: dict) -> Qwen3VLConfig:
    tied = fam.get("tied", True)
    text = dict(
        fam["text"],
        rms_norm_eps=1e-6,
        max_position_embeddings=262144,
        attention_bias=False,
        tie_word_embeddings=tied,
        rope_parameters=copy.deepcopy(ROPE),
    )
    vision = dict(
        fam["vision"],
        patch_size=16,
        temporal_patch_size=2,
        spatial_merge_size=2,
        in_channels=3,
        hidden_act="gelu_pytorch_tanh",
    )
    cls = Qwen3VLMoeConfig if fam.get("moe") else Qwen3VLConfig
    return cls(
        text_config=text,
        vision_config=vision,
        image_token_id=IMAGE_TOKEN,
        video_token_id=VIDEO_TOKEN,
        vision_start_token_id=VISION_START,
        vision_end_token_id=VISION_END,
        tie_word_embeddings=tied,
    )


def write_folder(folder: Path, cfg: Qwen3VLConfig):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(cfg.to_json_string())
    for f in ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.json"):
        shutil.copyfile(TOKENIZER_DIR / f, folder / f)
    shutil.copyfile(IMAGE_PREPROC, folder / "preprocessor_config.json")
    shutil.copyfile(VIDEO_PREPROC, folder / "video_preprocessor_config.json")


def is_expert(name: str) -> bool:
    """A fused expert tensor: module layout [E, out, in], released checkpoint layout [E, in, out]."""
    return name.endswith((".mlp.experts.gate_up_proj", ".mlp.experts.down_proj"))


def model_class(cfg):
    return Qwen3VLMoeForConditionalGeneration if isinstance(cfg, Qwen3VLMoeConfig) else Qwen3VLForConditionalGeneration


def build_model(cfg: Qwen3VLConfig, tied: bool = True, moe: bool = False):
    # Not under no_init_weights: in 5.24 that also skips the tying of lm_head to the embedding.
    # The throwaway random init is overwritten below (every parameter, checked).
    torch.manual_seed(0)
    model = model_class(cfg)._from_config(copy.deepcopy(cfg), dtype=torch.float32)
    model.eval()
    lm = model.model.language_model
    if tied:
        assert model.lm_head.weight is lm.embed_tokens.weight, "lm_head is not tied"
    else:
        assert model.lm_head.weight is not lm.embed_tokens.weight, "lm_head is tied"
        assert model.lm_head.weight.data_ptr() != lm.embed_tokens.weight.data_ptr()
    sd = model.state_dict()
    params = dict(model.named_parameters())  # tied parameters are listed once
    shapes = {}  # the synth shapes: state_dict shapes, experts in the released [E, in, out] layout
    for name, t in sd.items():
        if name == "lm_head.weight" and tied:
            continue  # tied to model.language_model.embed_tokens.weight
        assert name in params, f"state_dict entry {name} is not a parameter (a persistent buffer?)"
        shape = tuple(t.shape)
        if is_expert(name):
            assert moe and len(shape) == 3 and shape[1] != shape[2], (name, shape)
            shape = (shape[0], shape[2], shape[1])
        shapes[name] = shape
    assert set(params) == set(shapes), set(params) ^ set(shapes)
    persistent = {n for n, _ in model.named_buffers()} & set(sd)
    assert not persistent, f"persistent buffers: {persistent}"
    required = synth.ALL_MODEL_RULES + (() if tied else ("lm_head",)) + (("text.experts",) if moe else ())
    weights = synth.model_weights(shapes, WEIGHTS_SEED, required)
    module_weights = {n: (np.ascontiguousarray(w.transpose(0, 2, 1)) if is_expert(n) else w) for n, w in weights.items()}
    filled = set()
    with torch.no_grad():
        for name, p in params.items():
            src = torch.from_numpy(module_weights[name])
            assert tuple(src.shape) == tuple(p.shape), name
            p.copy_(src)
            filled.add(name)
    assert filled == set(shapes)
    for name, t in model.state_dict().items():
        key = "model.language_model.embed_tokens.weight" if name == "lm_head.weight" and tied else name
        assert torch.equal(t, torch.from_numpy(module_weights[key])), name
    rules = {}
    for name, shape in shapes.items():
        rid, _, _, _ = synth.text_weight_rule(name, shape)
        rules.setdefault(rid, 0)
        rules[rid] += 1
    return model, rules


def check_expert_layouts(cfg) -> dict:
    """What transformers 5.24 reads and writes for fused experts, on a copy of cfg with a 512-token
    vocabulary: save_pretrained writes the module layout [E, out, in]; from_pretrained reads both
    that and the released layout [E, in, out] (conversion_mapping "qwen3_vl_moe": Transpose(1, 2,
    check_dims=True)) to the same parameters. Returns a summary for cases.json."""
    import tempfile

    from safetensors.numpy import load_file, save_file

    small = copy.deepcopy(cfg)
    small.text_config.vocab_size = 512
    torch.manual_seed(1)
    m = model_class(small)._from_config(copy.deepcopy(small), dtype=torch.float32).eval()
    ref = {k: v.detach().clone() for k, v in m.state_dict().items()}
    out = {}
    with tempfile.TemporaryDirectory() as d:
        m.save_pretrained(d)
        disk = load_file(os.path.join(d, "model.safetensors"))
        for k, v in disk.items():
            if is_expert(k):
                assert tuple(v.shape) == tuple(ref[k].shape), (k, v.shape)
                out.setdefault("save_pretrained_layout", {})[k.split("layers.")[1].split(".", 1)[1]] = list(v.shape)
        released = {k: (np.ascontiguousarray(v.transpose(0, 2, 1)) if is_expert(k) else v) for k, v in disk.items()}
        save_file(released, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        m2 = model_class(small).from_pretrained(d, dtype=torch.float32)
        for k, v in m2.state_dict().items():
            assert torch.equal(v, ref[k]), f"{k}: the released layout does not load to the same parameter"
        out["released_layout_loads_equal"] = True
        out["released_layout"] = {
            k.split("layers.")[1].split(".", 1)[1]: list(v.shape) for k, v in released.items() if is_expert(k) and ".layers.0." in k
        }
    out["save_pretrained_layout"] = {k: v for k, v in out.get("save_pretrained_layout", {}).items()}
    return out


def make_processor(folder: Path):
    proc = AutoProcessor.from_pretrained(str(folder))
    return proc


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------


def load_rgb(path: Path) -> Image.Image:
    im = Image.open(path)
    im.load()
    assert im.mode == "RGB", (path, im.mode)
    return im


def load_frames(folder: Path) -> np.ndarray:
    files = sorted(folder.glob("frame_*.png"))
    arr = np.stack([np.asarray(load_rgb(f)) for f in files])
    return arr


def case_spec(name: str) -> dict:
    """Messages (chat-template content lists) and the files they use."""
    if name == "text":
        msgs = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "The quick brown fox jumps over the lazy dog. What does this sentence show?"}
                ],
            }
        ]
        return dict(messages=msgs, images=[], video=None)
    if name == "image":
        msgs = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}
        ]
        return dict(messages=msgs, images=["grad_400x300.png"], video=None)
    if name == "two-images":
        msgs = [
            {
                "role": "user",
                "content": [
                    {"type": "image"},
                    {"type": "text", "text": "and"},
                    {"type": "image"},
                    {"type": "text", "text": "Which one is taller?"},
                ],
            }
        ]
        return dict(messages=msgs, images=["edges_97x61.png", "strip_1x150.png"], video=None)
    if name == "video":
        msgs = [
            {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens in this clip?"}]}
        ]
        return dict(messages=msgs, images=[], video=dict(folder="seven_frames", fps=2.0))
    if name == "multiturn":
        msgs = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colours are here?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Mostly blue and green."}]},
            {"role": "user", "content": [{"type": "text", "text": "And which corner is brightest?"}]},
        ]
        return dict(messages=msgs, images=["photo_250x190.png"], video=None)
    raise KeyError(name)


def run_processor(proc, spec: dict):
    text = proc.apply_chat_template(spec["messages"], tokenize=False, add_generation_prompt=True)
    kw = dict(text=[text], return_tensors="pt")
    if spec["images"]:
        # file paths, as apply_chat_template passes them (the image processor loads them itself,
        # like testdata/imageproc's goldens)
        kw["images"] = [str(IMAGES / f) for f in spec["images"]]
    if spec["video"]:
        v = spec["video"]
        frames = load_frames(FRAMES / v["folder"])
        kw["videos"] = [frames]
        kw["videos_kwargs"] = {"video_metadata": [{"total_num_frames": int(frames.shape[0]), "fps": v["fps"]}]}
        kw["return_metadata"] = True
    out = proc(**kw)
    return text, out


class Capture:
    """Hooks: what the text model is fed (per call), and the hidden state after every decoder
    layer of the first call, after the DeepStack addition where there is one; for MoE layers, the
    router's output of the first call (logits, normalised top-k weights, top-k experts)."""

    def __init__(self, model):
        self.calls = []
        self.layer_out = {}
        self.deepstack_out = {}
        self.router = {}
        lm = model.model.language_model
        self.lm = lm
        self.handles = [lm.register_forward_pre_hook(self._pre, with_kwargs=True)]
        for i, layer in enumerate(lm.layers):
            self.handles.append(layer.register_forward_hook(functools.partial(self._layer, i)))
            gate = getattr(layer.mlp, "gate", None)
            if gate is not None and not isinstance(gate, torch.nn.Linear):
                self.handles.append(gate.register_forward_hook(functools.partial(self._router, i)))
        self.orig_ds = lm._deepstack_process
        self.ds_count = 0

        def ds(hidden_states, visual_pos_masks, visual_embeds):
            out = self.orig_ds(hidden_states, visual_pos_masks, visual_embeds)
            if len(self.calls) == 1:
                self.deepstack_out[self.ds_count] = out.detach().clone()
                self.ds_count += 1
            return out

        lm._deepstack_process = ds

    def _pre(self, module, args, kwargs):
        rec = {}
        for k in ("inputs_embeds", "position_ids", "attention_mask", "visual_pos_masks", "deepstack_visual_embeds"):
            v = kwargs.get(k)
            if isinstance(v, torch.Tensor):
                v = v.detach().clone()
            elif isinstance(v, list):
                v = [x.detach().clone() for x in v]
            rec[k] = v
        self.calls.append(rec)

    def _router(self, i, module, args, output):
        if len(self.calls) == 1:
            self.router[i] = tuple(x.detach().clone() for x in output)

    def _layer(self, i, module, args, output):
        if len(self.calls) == 1:
            out = output[0] if isinstance(output, tuple) else output
            self.layer_out[i] = out.detach().clone()

    def close(self):
        for h in self.handles:
            h.remove()
        del self.lm._deepstack_process


def lse64(x: torch.Tensor) -> torch.Tensor:
    """logsumexp in float64 of float32 logits [P, V]."""
    return torch.logsumexp(x.double(), dim=-1)


def top2_margin(x: torch.Tensor) -> list:
    v = torch.topk(x, 2, dim=-1).values
    return [float(a - b) for a, b in v.tolist()]


def runs(rows: list) -> list:
    """Consecutive row indices as half-open [start, end) pairs."""
    out = []
    for r in rows:
        if out and out[-1][1] == r:
            out[-1][1] = r + 1
        else:
            out.append([r, r + 1])
    return out


def sha256_f32(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().float().numpy().tobytes()).hexdigest()


def run_case(name: str, fam: dict, proc, model, folder: Path) -> dict:
    t0 = time.time()
    spec = case_spec(name)
    text, out = run_processor(proc, spec)
    ids = out["input_ids"]
    mask = out["attention_mask"]
    mm = out["mm_token_type_ids"]
    igrid = out.get("image_grid_thw")
    vgrid = out.get("video_grid_thw")
    L = ids.shape[1]
    assert ids.shape[0] == 1 and bool(mask.all())
    inner = model.model

    pos, deltas = inner.get_rope_index(
        ids, mm_token_type_ids=mm, image_grid_thw=igrid, video_grid_thw=vgrid, attention_mask=mask
    )

    mm_inputs = {}
    for k in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw"):
        if k in out:
            mm_inputs[k] = out[k]

    # 1. Full prefill forward (no cache): logits at every prompt position, hidden states.
    cap = Capture(model)
    inner.rope_deltas = None
    with torch.no_grad():
        fwd = model(input_ids=ids, attention_mask=mask, mm_token_type_ids=mm, use_cache=False, **mm_inputs)
    prefill_logits = fwd.logits[0].detach().clone()  # [L, V]
    call = cap.calls[0]
    n_layers = len(model.model.language_model.layers)
    hidden = []
    for i in range(n_layers):
        h = cap.deepstack_out[i] if i in cap.deepstack_out else cap.layer_out[i]
        hidden.append(h[0])
    ds_layers = sorted(cap.deepstack_out)
    router = dict(cap.router)
    cap.close()
    # final norm applied to the last layer's output
    with torch.no_grad():
        normed = model.model.language_model.norm(hidden[-1][None])[0]
        assert torch.equal(model.lm_head(normed[None])[0], prefill_logits), "normed hidden does not give the logits"
    inputs_embeds = call["inputs_embeds"][0]
    if call["position_ids"] is not None:
        fp = call["position_ids"]
        assert fp.shape == (3, 1, L), fp.shape  # Qwen3VLModel.forward feeds the 3 MRoPE rows only
        assert torch.equal(fp, pos), f"{name}: forward's MRoPE ids differ from get_rope_index"
        prefill_pos_source = "get_rope_index (3 rows)"
    else:
        assert torch.equal(pos, torch.arange(L).view(1, 1, -1).expand(3, 1, L))
        prefill_pos_source = "none (text only: the text model uses arange)"

    # 2. generate: greedy, eos disabled, KV cache.
    n_gen = fam["generate_tokens"]
    cap = Capture(model)
    inner.rope_deltas = None
    t1 = time.time()
    with torch.no_grad():
        gen = model.generate(
            input_ids=ids,
            attention_mask=mask,
            mm_token_type_ids=mm,
            **mm_inputs,
            do_sample=False,
            max_new_tokens=n_gen,
            min_new_tokens=n_gen,
            eos_token_id=None,
            pad_token_id=PAD,
            output_logits=True,
            return_dict_in_generate=True,
            top_k=None,
            top_p=None,
            temperature=None,
        )
    t_gen = time.time() - t1
    calls = cap.calls
    cap.close()
    new = gen.sequences[0, L:].tolist()
    assert len(new) == n_gen, len(new)
    glogits = torch.stack([x[0] for x in gen.logits])  # [n_gen, V], raw (before processors)
    assert torch.equal(glogits.argmax(-1), torch.tensor(new)), "greedy tokens are not the raw argmax"
    margins = top2_margin(glogits)
    steps = fam["decode_steps"]
    assert len(calls) == n_gen
    # prefill inside generate vs the full forward, last prompt position
    d_prefill = (glogits[0] - prefill_logits[-1]).abs().max().item()
    decode_pos = []
    for rec in calls[1 : steps + 1]:
        p = rec["position_ids"]
        decode_pos.append([int(x) for x in p[:, 0, 0].tolist()])  # [text, t, h, w] of the one new token
    gen_prefill_pos = calls[0]["position_ids"]
    assert gen_prefill_pos.shape == (4, 1, L), gen_prefill_pos.shape
    assert torch.equal(gen_prefill_pos[1:], pos), "generate's prefill MRoPE ids differ from get_rope_index"
    assert torch.equal(gen_prefill_pos[0, 0], torch.arange(L)), "generate's prefill text ids are not arange"
    # logits rows: prompt positions 0..L-1 (full forward), then positions L..L+steps-1 (decode
    # steps 1..steps of generate: the logits after feeding generated token j-1)
    rows = torch.cat([prefill_logits, glogits[1 : steps + 1]], 0)  # [P, V]
    P = L + steps
    assert rows.shape[0] == P

    # the vocabulary subset
    first = []
    for t in ids[0].tolist() + new:
        if t not in first:
            first.append(t)
    rng = np.random.default_rng(SUBSET_SEED)
    rest = [int(x) for x in rng.permutation(model.config.text_config.vocab_size) if int(x) not in set(first)]
    subset = sorted(first + rest[: K - len(first)])
    assert len(subset) == K and len(set(subset)) == K
    sub = torch.tensor(subset, dtype=torch.int64)

    tensors = {
        "logits_subset": rows[:, sub].contiguous(),
        "logits_max": rows.max(-1).values.contiguous(),
        "logits_argmax": rows.argmax(-1).to(torch.int64).contiguous(),
        "logits_lse": lse64(rows).contiguous(),
        "subset_ids": sub,
        "input_ids": ids[0].to(torch.int64).contiguous(),
        "position_ids": pos[:, 0].to(torch.int64).contiguous(),
        "generated_ids": torch.tensor(new, dtype=torch.int64),
        "generated_margin": torch.tensor(margins, dtype=torch.float32),
    }
    last = L - 1
    vis_rows = [i for i, t in enumerate(ids[0].tolist()) if t in (IMAGE_TOKEN, VIDEO_TOKEN)]
    if fam["full_hidden"]:
        tensors["inputs_embeds"] = inputs_embeds.contiguous()
        for i, h in enumerate(hidden):
            tensors[f"hidden.{i}"] = h.contiguous()
        tensors["hidden.norm"] = normed.contiguous()
    else:
        tensors["inputs_embeds.last"] = inputs_embeds[last].contiguous()
        for i, h in enumerate(hidden):
            tensors[f"hidden.{i}.last"] = h[last].contiguous()
        tensors["hidden.norm.last"] = normed[last].contiguous()
        if vis_rows:
            v0 = vis_rows[0]
            tensors["inputs_embeds.visual0"] = inputs_embeds[v0].contiguous()
            tensors["inputs_embeds.visual"] = inputs_embeds[vis_rows].contiguous()
            for i, h in enumerate(hidden):
                tensors[f"hidden.{i}.visual0"] = h[v0].contiguous()
    router_info = None
    if router:
        # the prefill's routing, per sparse layer: top-k experts (torch.topk's order) and their
        # renormalised weights; the router probabilities' gap between the k-th and (k+1)-th
        # largest shows how far the choice is from a tie
        k = model.config.text_config.num_experts_per_tok
        gaps = []
        for i, (logits_r, weights_r, idx_r) in sorted(router.items()):
            tensors[f"router.{i}.experts"] = idx_r.to(torch.int64).contiguous()
            tensors[f"router.{i}.weights"] = weights_r.contiguous()
            tensors[f"router.{i}.logits"] = logits_r.contiguous()
            probs = torch.softmax(logits_r, dim=-1, dtype=torch.float)
            top = torch.topk(probs, k + 1, dim=-1).values
            gaps.append(float((top[:, k - 1] - top[:, k]).min()))
        router_info = {"sparse_layers": sorted(router), "min_topk_gap": min(gaps)}
    if call["deepstack_visual_embeds"] is not None:
        for i, f in enumerate(call["deepstack_visual_embeds"]):
            tensors[f"deepstack.{i}"] = f.contiguous()
        tensors["visual_pos_mask"] = call["visual_pos_masks"][0].to(torch.int64).contiguous()
    for k, v in tensors.items():
        assert v.dtype in (torch.float32, torch.float64, torch.int64), (k, v.dtype)
        if v.is_floating_point():
            assert torch.isfinite(v).all(), k
    fname = f"{name}.safetensors"
    meta = {"generator": GENERATOR, "case": name}
    mg.write_safetensors(folder / fname, tensors, meta)

    entry = {
        "name": name,
        "messages": spec["messages"],
        "prompt_text": text,
        "images": [f"testdata/imageproc/inputs/{f}" for f in spec["images"]],
        "image_sizes_hw": [[load_rgb(IMAGES / f).height, load_rgb(IMAGES / f).width] for f in spec["images"]],
    }
    if spec["video"]:
        v = spec["video"]
        md = out["video_metadata"][0]
        entry["video"] = {
            "frames_folder": f"testdata/video/inputs/{v['folder']}",
            "num_frames": int(load_frames(FRAMES / v["folder"]).shape[0]),
            "video_metadata_given": {"total_num_frames": int(load_frames(FRAMES / v["folder"]).shape[0]), "fps": v["fps"]},
            "frames_indices": [int(x) for x in md.frames_indices],
            "fps_used": md.fps,
        }
    entry.update(
        {
            "expanded_text": proc.tokenizer.decode(ids[0].tolist()),
            "prompt_length": L,
            "input_ids": ids[0].tolist(),
            "attention_mask": mask[0].tolist(),
            "mm_token_type_ids": mm[0].tolist(),
            "image_grid_thw": igrid.tolist() if igrid is not None else [],
            "video_grid_thw": vgrid.tolist() if vgrid is not None else [],
            "pixel_values_sha256": sha256_f32(out["pixel_values"]) if "pixel_values" in out else None,
            "pixel_values_shape": list(out["pixel_values"].shape) if "pixel_values" in out else None,
            "pixel_values_videos_sha256": sha256_f32(out["pixel_values_videos"]) if "pixel_values_videos" in out else None,
            "pixel_values_videos_shape": list(out["pixel_values_videos"].shape) if "pixel_values_videos" in out else None,
            "position_ids": pos[:, 0].tolist(),
            "rope_deltas": int(deltas.reshape(-1)[0]),
            "prefill_position_ids_fed": prefill_pos_source,
            "decode_position_ids": decode_pos,
            "visual_runs": runs(vis_rows),
            "num_visual_tokens": len(vis_rows),
            "deepstack_layers": ds_layers,
            "decode_steps": steps,
            "logits_rows": P,
            "generated_ids": new,
            "generated_text": proc.tokenizer.decode(new),
            "generated_margin": margins,
            "min_margin": min(margins),
            "generated_eos_ids_seen": sorted({t for t in new if t in (151645, 151643)}),
            "prefill_vs_generate_step0_max_abs": d_prefill,
            "prefill_vs_generate_step0_rel": d_prefill / prefill_logits[-1].abs().max().item(),
            "logits_abs_max": rows.abs().max().item(),
            "subset_ids": subset,
            "subset_head": len(first),
            **({"router": router_info} if router_info else {}),
            "file": fname,
            "tensors": {k: [str(v.dtype).replace("torch.", ""), list(v.shape)] for k, v in sorted(tensors.items())},
        }
    )
    log(
        f"  [{name}] L={L} P={P} gen {t_gen:.1f}s min margin {min(margins):.3g} step0 diff {d_prefill:.3g}"
        f" distinct generated {len(set(new))}" + (f" min top-k gap {router_info['min_topk_gap']:.3g}" if router_info else "")
    )
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="tiny", choices=sorted(FAMILIES))
    ap.add_argument("--only", action="append", metavar="CASE")
    ap.add_argument("--out", default=None, help="output folder (default testdata/text/<family>)")
    args = ap.parse_args()
    mg.check_versions()
    synth.self_test()
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    fam = FAMILIES[args.family]
    folder = Path(args.out) if args.out else OUT / args.family
    t0 = time.time()
    cfg = make_config(fam)
    write_folder(folder, cfg)
    model, rules = build_model(cfg, tied=fam.get("tied", True), moe=fam.get("moe", False))
    layouts = check_expert_layouts(cfg) if fam.get("moe") else None
    log(f"model built with synthetic weights in {time.time() - t0:.1f}s")
    proc = make_processor(folder)
    cases = []
    names = args.only or fam["cases"]
    for n in names:
        cases.append(run_case(n, fam, proc, model, folder))
    doc = {
        "generator": GENERATOR,
        "family": args.family,
        "versions": mg.versions(),
        "torch_threads": THREADS,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "attn_implementation": model.config._attn_implementation,
        "text_attn_implementation": model.model.language_model.config._attn_implementation,
        "vision_attn_implementation": model.model.visual.config._attn_implementation,
        "dtype": "float32",
        "weights_seed": WEIGHTS_SEED,
        "weights_rules_used": rules,
        **({"expert_layouts": layouts} if layouts else {}),
        "subset_seed": SUBSET_SEED,
        "subset_size": K,
        "generate": {
            "do_sample": False,
            "max_new_tokens": fam["generate_tokens"],
            "min_new_tokens": fam["generate_tokens"],
            "eos_token_id": None,
            "pad_token_id": PAD,
            "output_logits": True,
        },
        "cases": cases,
    }
    if args.only and (folder / "cases.json").exists():
        old = {c["name"]: c for c in json.loads((folder / "cases.json").read_text())["cases"]}
        for c in cases:
            old[c["name"]] = c
        doc["cases"] = [old[n] for n in fam["cases"] if n in old]
    (folder / "cases.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
