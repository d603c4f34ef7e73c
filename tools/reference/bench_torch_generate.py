#!/usr/bin/env python3
"""Time Hugging Face's whole Qwen3-VL in PyTorch on the CPU, as `qwen3vl bench -generate` times
ours, and print the same table fields and final JSON line.

    tools/reference/.venv/bin/python tools/reference/bench_torch_generate.py \
        --preset qwen3-vl-2b --dtype float32 --threads 2 --runs 3 --tokens 64 \
        --peak-gflops 250 --read-gbps 40      # the figures of `qwen3vl bench -peak`

The model is `Qwen3VLForConditionalGeneration` built with `_from_config` in the chosen dtype
(one copy of the weights, never a float32 one first for bfloat16) from a config of our presets
(text/presets.go — the 2B/4B text shapes are marked unverified there — and vision/presets.go);
its weights are the module's own random initialisation (speed does not depend on them; they
are finite, so no denormal slow paths). `--preset tiny` is the tiny full model of
testdata/text/tiny, `--layers N` cuts the decoder to N layers: both only for smoke tests.

The prompt is the one Go builds: the processor of testdata/text/tiny (the released tokenizer,
chat template and preprocessor configs) applied to one user turn, the image and then the text
(default the 400x300 seed image, grid 1,18,24: 108 image tokens). Per run:

- preprocess_s: opening the image, `apply_chat_template` and the processor call (image
  preprocessing and tokenization), outside the time to the first token. (Go's preprocess_s is
  the image's decoding and preprocessing; its rendering and tokenization, ~ms, fall in its
  time to the first token.)
- ttft_s: from the call of `generate` to the streamer's receiving the first new token (vision
  encode, prefill, the first greedy choice).
- encode_s: the vision tower's forward (hooks on `model.model.visual`); prefill_s: the first
  forward of the language model (hooks on `model.model.language_model`), the prompt's prefill.
- decode: greedy, `min_new_tokens = max_new_tokens = --tokens` (eos can never end it), the
  streamer timing each new token; decode_step_s is the median interval between consecutive
  tokens over all timed runs, decode_tok_s its inverse.

decode_weight_bytes counts what one decode step reads of the weights, each once: every
parameter of the decoder layers and the final norm, lm_head (tied: the embedding table, read as
the output projection) and one embedding row, at the dtype's size. decode_kv_bytes are the keys
and values attention reads, on average over the steps, in the cache's dtype.
"""
import argparse
import copy
import json
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoProcessor, GenerationConfig  # noqa: E402
from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLConfig  # noqa: E402
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLForConditionalGeneration  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from bench_torch import flops as vision_flops  # noqa: E402

hf_logging.set_verbosity_error()

PROCESSOR_DIR = REPO / "testdata" / "text" / "tiny"
SEED_IMAGE = REPO / "testdata" / "imageproc" / "inputs" / "grad_400x300.png"
IMAGE_TOKEN, VIDEO_TOKEN, VISION_START, VISION_END = 151655, 151656, 151652, 151653
PAD = 151643

ROPE = {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20], "mrope_interleaved": True}


def text_preset(hidden, inter, layers, heads, kv_heads):
    """text/presets.go's released(): vocab 151936, head_dim 128, tied."""
    return dict(vocab_size=151936, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=128)


def vision_preset(depth, hidden, inter, out, deepstack):
    """vision/presets.go's released(): 16 heads, 48x48 position embeddings."""
    return dict(depth=depth, hidden_size=hidden, intermediate_size=inter, num_heads=16, out_hidden_size=out,
                num_position_embeddings=2304, deepstack_visual_indexes=deepstack)


PRESETS = {
    "qwen3-vl-2b": (text_preset(2048, 6144, 28, 16, 8), vision_preset(24, 1024, 4096, 2048, [5, 11, 17])),
    "qwen3-vl-4b": (text_preset(2560, 9728, 36, 32, 8), vision_preset(24, 1024, 4096, 2560, [5, 11, 17])),
    # testdata/text/tiny's model (text_goldens.py's family tiny), what random:tiny is in Go.
    "tiny": (text_preset(64, 128, 4, 4, 2),
             dict(depth=4, hidden_size=64, intermediate_size=200, num_heads=4, out_hidden_size=64,
                  num_position_embeddings=36, deepstack_visual_indexes=[1, 2, 3])),
}

DTYPES = {"float32": (torch.float32, "f32"), "bfloat16": (torch.bfloat16, "bf16")}


def make_config(preset, layers):
    text, vision = copy.deepcopy(PRESETS[preset])
    if layers:
        text["num_hidden_layers"] = layers
    text.update(rms_norm_eps=1e-6, max_position_embeddings=262144, attention_bias=False, tie_word_embeddings=True,
                rope_parameters=copy.deepcopy(ROPE))
    vision.update(patch_size=16, temporal_patch_size=2, spatial_merge_size=2, in_channels=3, hidden_act="gelu_pytorch_tanh")
    return Qwen3VLConfig(text_config=text, vision_config=vision, image_token_id=IMAGE_TOKEN, video_token_id=VIDEO_TOKEN,
                         vision_start_token_id=VISION_START, vision_end_token_id=VISION_END, tie_word_embeddings=True)


def text_flops(tc, n):
    """text.FLOPs(cfg, n, 0, 1): every Linear of the n rows, the attention products over the
    causal keys, lm_head for the last row."""
    d, i, v, hd = tc.hidden_size, tc.intermediate_size, tc.vocab_size, tc.head_dim
    q, kv = tc.num_attention_heads * hd, tc.num_key_value_heads * hd
    linears = q * d + 2 * kv * d + d * q + 3 * i * d
    keys = n * (n + 1) // 2
    attn = 4 * keys * tc.num_attention_heads * hd
    return tc.num_hidden_layers * (2 * n * linears + attn) + 2 * v * d


class Timer:
    """A generate streamer that records when each new token arrives (the first put is the
    prompt)."""

    def __init__(self, start):
        self.start, self.times, self.prompt_seen = start, [], False

    def put(self, value):
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.times.append(time.perf_counter() - self.start)

    def end(self):
        pass


class Span:
    """Forward hooks timing the first call of a module (after reset)."""

    def __init__(self, module):
        self.t0 = self.seconds = None
        module.register_forward_pre_hook(self._pre)
        module.register_forward_hook(self._post)

    def reset(self):
        self.t0 = self.seconds = None

    def _pre(self, mod, args):
        if self.seconds is None and self.t0 is None:
            self.t0 = time.perf_counter()

    def _post(self, mod, args, out):
        if self.seconds is None and self.t0 is not None:
            self.seconds = time.perf_counter() - self.t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="qwen3-vl-4b", choices=sorted(PRESETS))
    ap.add_argument("--layers", type=int, default=0, help="decoder layers instead of the preset's (smoke tests)")
    ap.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--image", default=str(SEED_IMAGE))
    ap.add_argument("--prompt", default="Describe this image.")
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    ap.add_argument("--peak-gflops", type=float, default=0, help="the FMA peak of `qwen3vl bench -peak`, for the percentages")
    ap.add_argument("--read-gbps", type=float, default=0, help="the read bandwidth of `qwen3vl bench -peak`")
    args = ap.parse_args()
    if args.runs < 1 or args.warmup < 0 or args.tokens < 1 or args.threads < 1 or args.layers < 0:
        ap.error("--runs, --tokens and --threads must be >= 1, --warmup and --layers >= 0")

    torch.set_num_threads(args.threads)
    dtype, wname = DTYPES[args.dtype]
    cfg = make_config(args.preset, args.layers)
    start = time.perf_counter()
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration._from_config(cfg, dtype=dtype, attn_implementation=args.attn).eval()
    load_s = time.perf_counter() - start
    lm = model.model.language_model
    assert model.lm_head.weight is lm.embed_tokens.weight, "lm_head is not tied"
    assert all(p.dtype == dtype for p in model.parameters()), "a parameter is not in the chosen dtype"
    proc = AutoProcessor.from_pretrained(str(PROCESSOR_DIR))
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": args.prompt}]}]
    gen = GenerationConfig(max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False,
                           eos_token_id=[151645, 151643], pad_token_id=PAD, repetition_penalty=1.0)
    encode_span, prefill_span = Span(model.model.visual), Span(lm)

    prep, enc, pre, ttft, dec, steps = [], [], [], [], [], []
    info = {}
    with torch.inference_mode():
        for i in range(-args.warmup, args.runs):
            t0 = time.perf_counter()
            image = Image.open(args.image).convert("RGB")
            text = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            inputs = proc(text=[text], images=[image], return_tensors="pt")
            prep_s = time.perf_counter() - t0
            encode_span.reset()
            prefill_span.reset()
            t0 = time.perf_counter()
            timer = Timer(t0)
            out = model.generate(**inputs, generation_config=gen, streamer=timer)
            new = out.shape[1] - inputs["input_ids"].shape[1]
            if new != args.tokens or len(timer.times) != args.tokens:
                raise SystemExit(f"{new} tokens generated ({len(timer.times)} streamed), want {args.tokens}")
            if not info:
                ids = inputs["input_ids"][0]
                info = dict(grid=[int(x) for x in inputs["image_grid_thw"][0]], prompt_tokens=int(ids.numel()),
                            vision_tokens=int((ids == IMAGE_TOKEN).sum()))
            if i < 0:
                continue
            tt = timer.times
            prep.append(prep_s)
            enc.append(encode_span.seconds)
            pre.append(prefill_span.seconds)
            ttft.append(tt[0])
            dec.append(tt[-1] - tt[0])
            steps += [b - a for a, b in zip(tt, tt[1:])]

    tc, vc = cfg.text_config, cfg.vision_config
    t, h, w = info["grid"]
    n = info["prompt_tokens"]
    elem = torch.tensor([], dtype=dtype).element_size()
    weight_bytes = sum(p.numel() * p.element_size() for p in lm.layers.parameters())
    weight_bytes += sum(p.numel() * p.element_size() for p in lm.norm.parameters())
    weight_bytes += model.lm_head.weight.numel() * elem + tc.hidden_size * elem
    kv_bytes = 0
    if args.tokens > 1:
        per_pos = 2 * elem * tc.num_hidden_layers * tc.num_key_value_heads * tc.head_dim
        kv_bytes = per_pos * (2 * n + args.tokens) // 2
    med = statistics.median
    res = {
        "engine": f"pytorch-{torch.__version__}/transformers-{transformers.__version__}/{args.attn}",
        "mode": "generate", "model": f"random:{args.preset}" + (f" ({args.layers} layers)" if args.layers else ""),
        "threads": args.threads, "weights": wname, "vision_weights": wname, "runs": args.runs, "warmup": args.warmup,
        "load_s": load_s, "image": args.image, "grid": info["grid"], "patches": t * h * w,
        "prompt_tokens": n, "vision_tokens": info["vision_tokens"], "new_tokens": args.tokens,
        "preprocess_s": med(prep), "encode_s": med(enc), "prefill_s": med(pre),
        "ttft_s": med(ttft), "ttft_min_s": min(ttft), "ttft_max_s": max(ttft),
        "vision_gflop": vision_flops(vc, t, h, w) / 1e9, "prefill_gflop": text_flops(tc, n) / 1e9,
        "decode_step_s": med(steps) if steps else 0, "decode_s": med(dec),
        "decode_weight_bytes": weight_bytes, "decode_kv_bytes": kv_bytes,
    }
    res["encode_gflops"] = res["vision_gflop"] / res["encode_s"]
    res["prefill_gflops"] = res["prefill_gflop"] / res["prefill_s"]
    res["decode_tok_s"] = 1 / res["decode_step_s"] if steps else 0
    res["decode_gbps"] = weight_bytes * res["decode_tok_s"] / 1e9
    if args.peak_gflops > 0:
        res["peak_gflops"] = args.peak_gflops
        res["encode_pct_peak"] = 100 * res["encode_gflops"] / args.peak_gflops
        res["prefill_pct_peak"] = 100 * res["prefill_gflops"] / args.peak_gflops
    if args.read_gbps > 0:
        res["read_gbps"] = args.read_gbps
        res["decode_pct_bandwidth"] = 100 * res["decode_gbps"] / args.read_gbps
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    r = res
    print(f"{r['model']}, {wname} weights, {args.threads} threads, {args.runs} runs after {args.warmup} warm-up")
    print(f"prompt {n} tokens ({r['vision_tokens']} vision: grid {t},{h},{w}, {r['patches']} patches), {args.tokens} new tokens; load {load_s:.1f} s")
    print(f"{'stage':<22} {'median s':>10} {'GFLOP':>10} {'GFLOP/s':>12} {'% peak':>8}")
    print(f"{'preprocess':<22} {r['preprocess_s']:10.3f}")
    print(f"{'vision encode':<22} {r['encode_s']:10.3f} {r['vision_gflop']:10.1f} {r['encode_gflops']:12.1f} {r.get('encode_pct_peak', 0):8.1f}")
    print(f"{'prefill':<22} {r['prefill_s']:10.3f} {r['prefill_gflop']:10.1f} {r['prefill_gflops']:12.1f} {r.get('prefill_pct_peak', 0):8.1f}")
    print(f"{'time to first token':<22} {r['ttft_s']:10.3f}   (min {r['ttft_min_s']:.3f}, max {r['ttft_max_s']:.3f})")
    print(f"decode: {r['decode_tok_s']:.2f} tokens/s (median step {1e3 * r['decode_step_s']:.1f} ms; {args.tokens} tokens in {r['decode_s']:.2f} s), "
          f"weights {weight_bytes / 1e9:.2f} GB/step -> {r['decode_gbps']:.1f} GB/s, {r.get('decode_pct_bandwidth', 0):.1f}% of read bandwidth "
          f"{args.read_gbps:.1f} GB/s; KV {kv_bytes / 1e6:.1f} MB/step")
    print(f"FMA peak {args.peak_gflops:.1f} GFLOP/s; peak RSS {r['peak_rss_mib']:.0f} MiB")
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
