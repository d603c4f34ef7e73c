#!/usr/bin/env python3
"""Produce the golden fixtures under testdata/textjoin/ from the pinned Hugging Face transformers.

Everything here comes from transformers' own code, never from the Go package:

- placeholder expansion: `Qwen3VLProcessor.__call__` (ProcessorMixin.get_text_with_replacements
  + Qwen3VLProcessor.replace_image_token / replace_video_token), with a tiny byte-level tokenizer
  that holds the Qwen special tokens at their real ids (no hub download), the Qwen2-VL image
  processor and the Qwen3-VL video processor built locally;
- position ids: `Qwen3VLModel.get_rope_index`, and the prefill/decode ids that
  `Qwen3VLForConditionalGeneration.generate` really feeds the language model (captured by a hook);
- placement: the forward pass of a tiny random Qwen3VLForConditionalGeneration (real vision tower,
  3-layer text model) run by `generate`; hooks capture the text embeddings, the vision features,
  `inputs_embeds` after `masked_scatter`, `visual_pos_masks`, `deepstack_visual_embeds`, and the
  hidden state before/after the DeepStack addition of decoder layer 0.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/textjoin_goldens.py
    tools/reference/.venv/bin/python tools/reference/textjoin_goldens.py --family qwen3.5

`--family qwen3.5` writes the same cases under testdata/textjoin/qwen3.5/ with the Qwen3.5
special-token ids (248044…248057, as testdata/tokenizer/qwen3.5 holds them) and a tiny random
Qwen3_5ForConditionalGeneration (no DeepStack; hybrid text model): the processor is the same
Qwen3VLProcessor / Qwen3VLVideoProcessor (transformers maps qwen3_5, qwen3_5_moe and qwen4_exp
to them), get_rope_index the same code.

Outputs (testdata/textjoin/):
    cases.json               per case: prompts, items, expanded text, ids, masks, grids, positions,
                             rope deltas, decode positions, (tensor file name)
    <case>.safetensors       float32 embeddings/features before and after placement (+ BOOL mask)
    timestamps.json          Python's f"{x:.1f}" of many floats, frame sampling, group timestamps
    errors.json              the reference's error messages for placeholder/item mismatches
    checkpoint/              config.json, tokenizer_config.json, tokenizer.json of the tiny model
    README.md is hand-written.

The script is deterministic: running it twice gives identical files.
"""

from __future__ import annotations

import functools
import json
import platform
import random
import struct
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "textjoin"

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen3VLProcessor  # noqa: E402
from transformers.models.qwen2_vl import Qwen2VLImageProcessor  # noqa: E402
from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLConfig  # noqa: E402
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLForConditionalGeneration  # noqa: E402
from transformers.models.qwen3_5.configuration_qwen3_5 import Qwen3_5Config  # noqa: E402
from transformers.models.qwen3_5.modeling_qwen3_5 import Qwen3_5ForConditionalGeneration  # noqa: E402
from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor  # noqa: E402
from transformers.video_utils import VideoMetadata  # noqa: E402

GENERATOR = "tools/reference/textjoin_goldens.py"
PINNED = {"transformers": "5.24.0", "torch": "2.14.1", "safetensors": "0.8.0", "numpy": "2.4.6"}

# The Qwen2/Qwen3 special tokens at their real ids (Qwen3-VL's tokenizer_config.json).
SPECIAL = {
    "<|endoftext|>": 151643,
    "<|im_start|>": 151644,
    "<|im_end|>": 151645,
    "<|object_ref_start|>": 151646,
    "<|object_ref_end|>": 151647,
    "<|box_start|>": 151648,
    "<|box_end|>": 151649,
    "<|quad_start|>": 151650,
    "<|quad_end|>": 151651,
    "<|vision_start|>": 151652,
    "<|vision_end|>": 151653,
    "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655,
    "<|video_pad|>": 151656,
}
VOCAB_SIZE = 151680  # ≥ every id above; the text model's embedding table size

# The same tokens at Qwen3.5's ids (testdata/tokenizer/qwen3.5, built by build_tokenizers.py).
SPECIAL_QWEN35 = {
    "<|endoftext|>": 248044,
    "<|im_start|>": 248045,
    "<|im_end|>": 248046,
    "<|object_ref_start|>": 248047,
    "<|object_ref_end|>": 248048,
    "<|box_start|>": 248049,
    "<|box_end|>": 248050,
    "<|quad_start|>": 248051,
    "<|quad_end|>": 248052,
    "<|vision_start|>": 248053,
    "<|vision_end|>": 248054,
    "<|vision_pad|>": 248055,
    "<|image_pad|>": 248056,
    "<|video_pad|>": 248057,
}
VOCAB_SIZE_QWEN35 = 248064
FAMILY = "qwen3-vl"  # set by --family


def use_family(family: str):
    """Switch the module's tokens, vocabulary size and output folder to a family."""
    global FAMILY, SPECIAL, VOCAB_SIZE, OUT
    FAMILY = family
    if family == "qwen3.5":
        SPECIAL, VOCAB_SIZE, OUT = SPECIAL_QWEN35, VOCAB_SIZE_QWEN35, OUT / "qwen3.5"
        check_tokenizer_folder()
    elif family != "qwen3-vl":
        raise SystemExit(f"unknown family {family!r} (qwen3-vl, qwen3.5)")


def check_tokenizer_folder():
    """The Qwen3.5 ids above are those of testdata/tokenizer/qwen3.5/tokenizer.json."""
    tj = json.loads((REPO / "testdata" / "tokenizer" / "qwen3.5" / "tokenizer.json").read_text())
    have = {a["content"]: a["id"] for a in tj["added_tokens"]}
    for text, i in SPECIAL.items():
        assert have.get(text) == i, (text, have.get(text), i)

IMG = "<|vision_start|><|image_pad|><|vision_end|>"  # what the chat template emits per image
VID = "<|vision_start|><|video_pad|><|vision_end|>"  # ... and per video


def chat(user: str) -> str:
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def log(*a):
    print(*a, flush=True)


def versions() -> dict:
    return {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
    }


def check_versions():
    v = versions()
    bad = {k: (v[k], want) for k, want in PINNED.items() if v[k].split("+")[0] != want}
    if bad:
        raise SystemExit(f"unpinned reference versions (got, want): {bad}; use tools/reference/.venv")


# ---------------------------------------------------------------------------------------------
# tokenizer and processor, built locally
# ---------------------------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte ↔ printable-character table used by the ByteLevel pre-tokenizer."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def make_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE without merges: token id = byte value for ordinary text (so a Go test can
    tokenize with []byte(s)), special tokens at their real Qwen ids."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    vocab.update(SPECIAL)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, pad_token="<|endoftext|>", eos_token="<|im_end|>", padding_side="left"
    )
    # sanity: ordinary text is bytes, specials are atomic
    assert tok("é<|image_pad|>a").input_ids == [0xC3, 0xA9, SPECIAL["<|image_pad|>"], 97]
    return tok


SIZE = {"shortest_edge": 32 * 32, "longest_edge": 32 * 32 * 1024}  # small budget: small goldens


def make_processor() -> Qwen3VLProcessor:
    ip = Qwen2VLImageProcessor(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        image_mean=[0.5] * 3,
        image_std=[0.5] * 3,
        size=SIZE,
    )
    vp = Qwen3VLVideoProcessor(
        size=SIZE, cap_pixels_per_frame=False, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    return Qwen3VLProcessor(image_processor=ip, tokenizer=make_tokenizer(), video_processor=vp)


# ---------------------------------------------------------------------------------------------
# tiny model
# ---------------------------------------------------------------------------------------------


def make_config():
    if FAMILY == "qwen3.5":
        return make_config_qwen35()
    return Qwen3VLConfig(
        vision_config=dict(
            depth=3,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            deepstack_visual_indexes=[0, 1, 2],
            patch_size=16,
            spatial_merge_size=2,
            temporal_patch_size=2,
            num_position_embeddings=2304,
        ),
        text_config=dict(
            vocab_size=VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 5000000.0,
                "mrope_section": [4, 2, 2],
                "mrope_interleaved": True,
            },
            pad_token_id=SPECIAL["<|endoftext|>"],
        ),
    )


def make_config_qwen35() -> Qwen3_5Config:
    """The tiny model of make_config as a Qwen3.5: no DeepStack, a linear-attention layer and a
    full-attention one, and Qwen3.5's token ids."""
    return Qwen3_5Config(
        vision_config=dict(
            depth=3,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            patch_size=16,
            spatial_merge_size=2,
            temporal_patch_size=2,
            num_position_embeddings=2304,
        ),
        text_config=dict(
            vocab_size=VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            layer_types=["linear_attention", "full_attention", "linear_attention"],
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            linear_num_key_heads=2,
            linear_num_value_heads=2,
            linear_key_head_dim=8,
            linear_value_head_dim=8,
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 10000000.0,
                "partial_rotary_factor": 1.0,
                "mrope_section": [4, 2, 2],
                "mrope_interleaved": True,
            },
            pad_token_id=SPECIAL["<|endoftext|>"],
        ),
        image_token_id=SPECIAL["<|image_pad|>"],
        video_token_id=SPECIAL["<|video_pad|>"],
        vision_start_token_id=SPECIAL["<|vision_start|>"],
        vision_end_token_id=SPECIAL["<|vision_end|>"],
    )


def make_model(cfg):
    torch.manual_seed(7)
    cls = Qwen3_5ForConditionalGeneration if FAMILY == "qwen3.5" else Qwen3VLForConditionalGeneration
    model = cls(cfg).eval()
    # Randomise every parameter (default init sets norms to 1 and biases to 0).
    g = torch.Generator().manual_seed(8)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if "embed_tokens" in name else 0.1))
    return model


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def image(rng: np.random.Generator, h: int, w: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8))


def video(rng: np.random.Generator, t: int, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, size=(t, h, w, 3), dtype=np.uint8)


def build_cases():
    rng = np.random.default_rng(20260501)
    cases = []
    cases.append(
        dict(
            name="one_image",
            prompts=[chat(f"{IMG}Describe this image.")],
            images=[image(rng, 96, 160)],
        )
    )
    cases.append(
        dict(
            name="image_shapes",
            prompts=[chat(f"square {IMG} tall {IMG} wide {IMG} compare them")],
            images=[image(rng, 64, 64), image(rng, 448, 64), image(rng, 64, 224)],
        )
    )
    # image, video, image: DeepStack rows of both kinds interleave in sequence order. The video
    # has 5 frames and no metadata: fps defaults to 24, frames_indices to range(5), the odd count
    # is padded by repeating the last index.
    cases.append(
        dict(
            name="image_and_video",
            prompts=[chat(f"{IMG}then{VID}and{IMG}What changed?")],
            images=[image(rng, 64, 96), image(rng, 160, 64)],
            videos=[video(rng, 5, 64, 128)],
            videos_kwargs={"do_sample_frames": False},
        )
    )
    # 240 frames at 30 fps sampled at the processor's fps=2: 16 frames, 8 temporal groups.
    cases.append(
        dict(
            name="video_groups",
            prompts=[chat(f"{VID}Summarise the clip.")],
            videos=[video(rng, 240, 64, 96)],
            video_metadata=[{"total_num_frames": 240, "fps": 30.0, "duration": 8.0}],
            videos_kwargs={"do_sample_frames": True},
        )
    )
    # Left padding; row 1 holds an image and a video whose timestamps are exact binary ties
    # (0.125, 0.625, 1.125 → "0.1", "0.6", "1.1": round-half-even); row 2 is text only.
    cases.append(
        dict(
            name="batch_left_pad",
            prompts=[
                chat(f"short {IMG}"),
                chat(f"{IMG} and the clip {VID} please describe both in detail"),
                chat("text only"),
            ],
            images=[image(rng, 64, 64), image(rng, 96, 64)],
            videos=[video(rng, 6, 64, 64)],
            video_metadata=[{"total_num_frames": 6, "fps": 4.0, "frames_indices": [0, 1, 2, 3, 4, 5]}],
            videos_kwargs={"do_sample_frames": False},
        )
    )
    return cases


# ---------------------------------------------------------------------------------------------
# running the reference
# ---------------------------------------------------------------------------------------------


def run_processor(proc, case):
    kw = dict(text=list(case["prompts"]), padding=True, return_tensors="pt", return_text_replacement_offsets=True)
    if case.get("images"):
        kw["images"] = case["images"]
    if case.get("videos"):
        kw["videos"] = case["videos"]
        vk = dict(case.get("videos_kwargs", {}))
        if "video_metadata" in case:
            vk["video_metadata"] = [dict(m) for m in case["video_metadata"]]
        kw["videos_kwargs"] = vk
        kw["return_metadata"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = proc(**kw)
    return out


class Capture:
    """Hooks on the tiny model that record what generate() feeds the text model."""

    def __init__(self, model):
        self.lm_calls = []
        self.image_out = None
        self.video_out = None
        self.layer0_out = None
        self.layer1_in = None
        self.in_video = False
        inner = model.model
        lm = inner.language_model
        self.handles = [
            lm.register_forward_pre_hook(self._lm_pre, with_kwargs=True),
            lm.layers[0].register_forward_hook(self._layer0),
            lm.layers[1].register_forward_pre_hook(self._layer1, with_kwargs=True),
        ]
        orig_img, orig_vid = inner.get_image_features, inner.get_video_features

        @functools.wraps(orig_img)  # generate() reads the signature
        def img(*a, **k):
            out = orig_img(*a, **k)
            if self.image_out is None and not self.in_video:
                self.image_out = out
            return out

        @functools.wraps(orig_vid)
        def vid(*a, **k):
            self.in_video = True  # get_video_features calls get_image_features
            try:
                out = orig_vid(*a, **k)
            finally:
                self.in_video = False
            if self.video_out is None:
                self.video_out = out
            return out

        inner.get_image_features = img
        inner.get_video_features = vid

    def _lm_pre(self, module, args, kwargs):
        rec = {}
        for k in ("inputs_embeds", "position_ids", "visual_pos_masks", "deepstack_visual_embeds", "attention_mask"):
            v = kwargs.get(k)
            if isinstance(v, torch.Tensor):
                v = v.detach().clone()
            elif isinstance(v, list):
                v = [x.detach().clone() for x in v]
            rec[k] = v
        self.lm_calls.append(rec)

    def _layer0(self, module, args, output):
        if self.layer0_out is None:
            out = output[0] if isinstance(output, tuple) else output
            self.layer0_out = out.detach().clone()

    def _layer1(self, module, args, kwargs):
        if self.layer1_in is None:
            hs = args[0] if args else kwargs["hidden_states"]
            self.layer1_in = hs.detach().clone()


def run_case(proc, model, case, tensors_dir: Path) -> dict:
    name = case["name"]
    out = run_processor(proc, case)
    tok = proc.tokenizer
    ids = out["input_ids"]
    mask = out["attention_mask"]
    mm = out["mm_token_type_ids"]
    igrid = out.get("image_grid_thw")
    vgrid = out.get("video_grid_thw")

    # Unexpanded token ids (what a caller holds before expansion) and the expanded text.
    raw_ids = [tok(p).input_ids for p in case["prompts"]]
    offsets = out["text_replacement_offsets"]
    expanded = []
    for p, offs in zip(case["prompts"], offsets):
        s, last = [], 0
        for o in offs:
            a, b = o["span"]
            s.append(p[last:a])
            s.append(o["replacement"])
            last = b
        s.append(p[last:])
        expanded.append("".join(s))
    for e, row, m in zip(expanded, ids.tolist(), mask.tolist()):
        assert tok(e).input_ids == [i for i, k in zip(row, m) if k], name

    timestamps = []
    metadata = []
    if vgrid is not None:
        for i, md in enumerate(out["video_metadata"]):
            fps = 24 if md.fps is None else md.fps
            ts = proc._calculate_timestamps(list(md.frames_indices), fps, proc.video_processor.temporal_patch_size)
            assert len(ts) == int(vgrid[i][0])
            timestamps.append(ts)
            # replace_video_token pads md.frames_indices in place (list.extend) to an even count;
            # record the frames actually fed: all of them unless the processor sampled.
            sampled = case.get("videos_kwargs", {}).get("do_sample_frames", True)
            fed = len(md.frames_indices) if sampled else int(case["videos"][i].shape[0])
            metadata.append(
                {
                    "total_num_frames": int(md.total_num_frames),
                    "fps": md.fps,  # after the processor's default (24 when unknown)
                    "fps_given": (case.get("video_metadata") or [{}])[i].get("fps"),
                    "frames_indices": [int(x) for x in md.frames_indices[:fed]],
                }
            )

    # Position ids straight from get_rope_index ...
    inner = model.model
    pos, deltas = inner.get_rope_index(
        ids, mm_token_type_ids=mm, image_grid_thw=igrid, video_grid_thw=vgrid, attention_mask=mask
    )

    # ... and what generate() actually feeds the text model (prefill + 3 decode steps).
    cap = Capture(model)
    gen_kwargs = {k: out[k] for k in ("input_ids", "attention_mask", "mm_token_type_ids")}
    for k in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw"):
        if k in out:
            gen_kwargs[k] = out[k]
    model.model.rope_deltas = None
    with torch.no_grad():
        gen = model.generate(
            **gen_kwargs, max_new_tokens=4, min_new_tokens=4, do_sample=False, pad_token_id=SPECIAL["<|endoftext|>"]
        )
    for h in cap.handles:
        h.remove()
    inner.get_image_features = type(inner).get_image_features.__get__(inner)
    inner.get_video_features = type(inner).get_video_features.__get__(inner)

    prefill = cap.lm_calls[0]
    pp = prefill["position_ids"]
    assert pp.shape[0] == 4, pp.shape
    assert torch.equal(pp[1:], pos), f"{name}: generate's prefill MRoPE ids differ from get_rope_index"
    decode = []
    for rec in cap.lm_calls[1:]:
        p = rec["position_ids"]
        decode.append({"text": p[0].tolist(), "mrope": p[1:].tolist()})
    new_tokens = gen[:, ids.shape[1]:].tolist()

    # Tensors: text embeddings before placement, the features placed, and the results.
    emb = inner.get_input_embeddings()
    t = {}
    with torch.no_grad():
        t["text_embeds"] = emb(ids).contiguous()
    t["inputs_embeds"] = prefill["inputs_embeds"].contiguous()
    if cap.image_out is not None:
        t["image_pooler"] = torch.cat(cap.image_out.pooler_output, 0).detach().contiguous()
        for k, f in enumerate(getattr(cap.image_out, "deepstack_features", None) or []):
            t[f"image_deepstack.{k}"] = torch.cat(f, 0).detach().contiguous()
    if cap.video_out is not None:
        t["video_pooler"] = torch.cat(cap.video_out.pooler_output, 0).detach().contiguous()
        for k, f in enumerate(getattr(cap.video_out, "deepstack_features", None) or []):
            t[f"video_deepstack.{k}"] = torch.cat(f, 0).detach().contiguous()
    if prefill["visual_pos_masks"] is not None:
        t["visual_pos_masks"] = prefill["visual_pos_masks"].contiguous()
        for k, f in enumerate(prefill["deepstack_visual_embeds"] or []):
            t[f"deepstack_visual_embeds.{k}"] = f.contiguous()
    t["layer0_out"] = cap.layer0_out.contiguous()
    t["layer1_in"] = cap.layer1_in.contiguous()
    for k, v in t.items():
        assert v.dtype in (torch.float32, torch.bool), (k, v.dtype)
    fname = f"{name}.safetensors"
    # one metadata key: safetensors writes several in a random order (files would differ per run)
    save_file(t, str(tensors_dir / fname), metadata={"generator": f"{GENERATOR} case={name}"})

    # Reference placement checked independently here too: a copy, so bitwise.
    if cap.image_out is not None:
        m = ids == model.config.image_token_id
        assert torch.equal(t["inputs_embeds"][m], t["image_pooler"])
        assert torch.equal(t["inputs_embeds"][~m & (ids != model.config.video_token_id)], t["text_embeds"][~m & (ids != model.config.video_token_id)])

    return {
        "name": name,
        "prompts": case["prompts"],
        "image_sizes": [[im.height, im.width] for im in case.get("images", [])],
        "video_shapes": [list(v.shape[:3]) for v in case.get("videos", [])],
        "video_metadata": metadata,
        "video_timestamps": timestamps,
        "expanded": expanded,
        "raw_input_ids": raw_ids,
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "mm_token_type_ids": mm.tolist() if isinstance(mm, torch.Tensor) else mm,
        "image_grid_thw": igrid.tolist() if igrid is not None else [],
        "video_grid_thw": vgrid.tolist() if vgrid is not None else [],
        "replacement_offsets": [
            [{"type": o["type"], "span": list(o["span"]), "new_span": list(o["new_span"])} for o in offs]
            for offs in offsets
        ],
        "position_ids": pos.tolist(),
        "rope_deltas": deltas.reshape(-1).tolist(),
        "decode_steps": decode,
        "generated": new_tokens,
        "tensors": fname,
        "deepstack_layers": len(prefill["deepstack_visual_embeds"] or []),
    }


# ---------------------------------------------------------------------------------------------
# small tables: timestamp formatting, frame sampling, errors
# ---------------------------------------------------------------------------------------------


def timestamp_tables(proc) -> dict:
    vals = [0.0, -0.0, 0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1.05, 2.5, 1e-9, 0.04999999999999999]
    vals += [k / 8 for k in range(0, 200)]
    vals += [k / 20 for k in range(0, 200)]
    vals += [k / 40 for k in range(0, 200)]
    vals += [1e15 + 0.25, 123456789.25, 9007199254740993.0, 1e22, 1.5e300, 5e-324]
    r = random.Random(5)
    vals += [r.uniform(0, 3600) for _ in range(300)]
    vals += [r.randrange(0, 100000) / r.choice([23.976, 24.0, 25.0, 29.97, 30.0, 59.94, 60.0, 2.0, 3.0, 7.0]) for _ in range(300)]
    fmt = [{"bits": struct_bits(v), "value": v, "text": f"{v:.1f}"} for v in vals]

    vp = proc.video_processor
    sampling = []
    for total, vfps in [(240, 30.0), (50, 29.97), (7, 24.0), (3, 30.0), (1000, 23.976), (10000, 60.0), (9, 1.0), (17, 2.5)]:
        for fps in [2, 1, 0.5, 3.7]:
            md = VideoMetadata(total_num_frames=total, fps=vfps)
            idx = vp.sample_frames(md, fps=fps)
            sampling.append({"total": total, "video_fps": vfps, "fps": fps, "min_frames": vp.min_frames,
                             "max_frames": vp.max_frames, "indices": [int(i) for i in idx]})
    groups = []
    for indices, fps in [([0, 1, 2, 3, 4, 5], 4.0), ([0, 1, 2, 3, 4], 24), ([0, 2, 5, 7], 30.0), ([3], 29.97),
                         ([0, 17, 34, 51, 68, 85, 102, 119], 29.97), ([10, 20, 30], 3.0)]:
        groups.append({"indices": indices, "fps": fps, "timestamps": proc._calculate_timestamps(list(indices), fps, 2)})
    return {"format": fmt, "sampling": sampling, "groups": groups}


def struct_bits(v: float) -> str:
    return struct.pack(">d", v).hex()


def error_cases(proc) -> list:
    rng = np.random.default_rng(3)
    img = image(rng, 64, 64)
    vid = video(rng, 4, 64, 64)
    cases = [
        ("two_placeholders_one_image", dict(text=[f"{IMG}{IMG}"], images=[img])),
        ("one_placeholder_two_images", dict(text=[f"{IMG}"], images=[img, img])),
        ("placeholder_no_images", dict(text=[f"a {IMG}"])),
        ("images_no_placeholder", dict(text=["plain"], images=[img])),
        ("video_placeholder_no_videos", dict(text=[f"{VID}"])),
        ("two_video_placeholders_one_video", dict(text=[f"{VID}{VID}"], videos=[vid])),
        ("batch_total_mismatch", dict(text=[f"{IMG}", "none"], images=[img, img])),
    ]
    res = []
    for name, kw in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                proc(**kw)
            res.append({"name": name, "error": None})
        except Exception as e:  # noqa: BLE001
            res.append({"name": name, "type": type(e).__name__, "error": str(e),
                        "prompts": kw["text"], "images": len(kw.get("images", [])), "videos": len(kw.get("videos", []))})
    return res


def rope_error_cases(model) -> list:
    """get_rope_index on inputs a caller could get wrong."""
    inner = model.model
    I, S, E = SPECIAL["<|image_pad|>"], SPECIAL["<|vision_start|>"], SPECIAL["<|vision_end|>"]
    out = []

    def run(name, ids, igrid, vgrid=None):
        ids_t = torch.tensor([ids])
        mm = torch.tensor([[1 if x == I else 2 if x == SPECIAL["<|video_pad|>"] else 0 for x in ids]])
        try:
            pos, d = inner.get_rope_index(ids_t, mm_token_type_ids=mm,
                                          image_grid_thw=torch.tensor(igrid) if igrid else None,
                                          video_grid_thw=torch.tensor(vgrid) if vgrid else None)
            out.append({"name": name, "input_ids": ids, "image_grid_thw": igrid, "video_grid_thw": vgrid or [],
                        "error": None, "position_ids": pos[:, 0].tolist(), "rope_delta": int(d[0, 0])})
        except Exception as e:  # noqa: BLE001
            out.append({"name": name, "input_ids": ids, "image_grid_thw": igrid, "video_grid_thw": vgrid or [],
                        "type": type(e).__name__, "error": str(e)})

    # two images with nothing between them: one run of 8 pads against a 4-token grid
    run("adjacent_images", [1, S] + [I] * 8 + [E, 2], [[1, 4, 4], [1, 4, 4]])
    # more image runs than grids
    run("runs_exceed_grids", [S, I, I, I, I, E, 5, S, I, I, I, I, E], [[1, 4, 4]])
    # fewer runs than grids: the reference ignores the extra grid
    run("grids_exceed_runs", [S, I, I, I, I, E, 5], [[1, 4, 4], [1, 2, 2]])
    # a pad run shorter than its grid
    run("short_run", [S, I, I, I, E], [[1, 4, 4]])
    # an image grid with t = 2 (not produced by the image processor): next text = s + max(h, w)/m
    run("image_t2", [7, S] + [I] * 8 + [E, 9], [[2, 4, 4]])
    return out


# ---------------------------------------------------------------------------------------------


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="qwen3-vl", help="qwen3-vl (testdata/textjoin) or qwen3.5 (testdata/textjoin/qwen3.5)")
    use_family(ap.parse_args().family)
    check_versions()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    proc = make_processor()
    cfg = make_config()
    model = make_model(cfg)

    ckpt = OUT / "checkpoint"
    ckpt.mkdir(exist_ok=True)
    cfg.to_json_file(str(ckpt / "config.json"), use_diff=False)
    proc.tokenizer.save_pretrained(str(ckpt))

    cases = []
    for case in build_cases():
        log("case", case["name"])
        cases.append(run_case(proc, model, case, OUT))

    doc = {
        "generator": GENERATOR,
        "versions": versions(),
        "family": FAMILY,
        "model_type": cfg.model_type,
        "tokens": SPECIAL,
        "spatial_merge_size": cfg.vision_config.spatial_merge_size,
        "image_processor_size": SIZE,
        "text_model": {"hidden_size": cfg.text_config.hidden_size, "num_hidden_layers": cfg.text_config.num_hidden_layers,
                       "mrope_section": cfg.text_config.rope_parameters["mrope_section"]},
        "cases": cases,
    }
    write_json(OUT / "cases.json", doc)
    write_json(OUT / "timestamps.json", {"generator": GENERATOR, **timestamp_tables(proc)})
    write_json(OUT / "errors.json", {"generator": GENERATOR, "expand": error_cases(proc), "rope": rope_error_cases(model)})
    log("wrote", OUT)


def write_json(path: Path, obj):
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
