#!/usr/bin/env python3
"""continue_final_message goldens: testdata/chat/continue.jsonl.

Each line: {"name", "template", "conversation", "options", "text"} or, when apply_chat_template
raises, {"name", "template", "conversation", "options", "error", "error_type"}. "text" is

    processor.apply_chat_template(messages, tokenize=False, **options)

with `processor = Qwen3VLProcessor(image_processor, tokenizer, video_processor,
chat_template=<testdata/chat/templates/<template>.jinja>)`, the tokenizer from
testdata/tokenizer/<qwen3vl|qwen3.5>, and options holding continue_final_message (True or a
field name), add_generation_prompt and template kwargs. transformers 5.24.0, jinja2 3.1.6.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/chat_continue_goldens.py
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "testdata" / "chat" / "continue.jsonl"
TEMPLATES = REPO / "testdata" / "chat" / "templates"
TOKENIZERS = REPO / "testdata" / "tokenizer"

import jinja2  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer, Qwen3VLProcessor  # noqa: E402
from transformers.models.qwen2_vl import Qwen2VLImageProcessor  # noqa: E402
from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

PINNED = {"transformers": "5.24.0", "jinja2": "3.1.6"}
TOKENIZER_OF = {"qwen3-vl-instruct": "qwen3vl", "qwen3-vl-thinking": "qwen3vl", "qwen3.5": "qwen3.5", "qwen3.6": "qwen3.5"}


def U(c):
    return {"role": "user", "content": c}


def A(c, **kw):
    return {"role": "assistant", "content": c, **kw}


CASES = [
    ("vl_continue", "qwen3-vl-instruct", [U("Write a haiku."), A("Autumn moonlight")], {"continue_final_message": True}),
    ("vl_continue_trailing_space", "qwen3-vl-instruct", [U("Count"), A("1, 2, ")], {"continue_final_message": True}),
    ("vl_continue_parts", "qwen3-vl-instruct", [U("Hi"), A([{"type": "text", "text": "Hello"}, {"type": "text", "text": " the"}])], {"continue_final_message": True}),
    ("vl_continue_user", "qwen3-vl-instruct", [U("Finish my sentence: the")], {"continue_final_message": True}),
    ("vl_continue_with_gen_prompt", "qwen3-vl-instruct", [U("Hi"), A("Hel")], {"continue_final_message": True, "add_generation_prompt": True}),
    ("vl_continue_no_content", "qwen3-vl-instruct", [U("Hi"), {"role": "assistant", "tool_calls": []}], {"continue_final_message": True}),
    ("vl_continue_parts_no_text", "qwen3-vl-instruct", [U("Hi"), A([{"type": "image"}])], {"continue_final_message": True}),
    ("vlt_continue", "qwen3-vl-thinking", [U("2+2?"), A("<think>\nadd\n</think>\n\nIt is")], {"continue_final_message": True}),
    ("q35_continue", "qwen3.5", [U("2+2?"), A("It is")], {"continue_final_message": True}),
    ("q35_continue_trimmed", "qwen3.5", [U("2+2?"), A("It is  \n")], {"continue_final_message": True}),
    ("q35_continue_reasoning", "qwen3.5", [U("2+2?"), A("", reasoning_content="Let me add")], {"continue_final_message": "reasoning_content"}),
    ("q35_continue_thinking_alias", "qwen3.5", [U("2+2?"), A("", thinking="adding two")], {"continue_final_message": "thinking"}),
    ("q35_continue_unknown_field", "qwen3.5", [U("2+2?"), A("x", note="n")], {"continue_final_message": "note"}),
    ("q36_continue", "qwen3.6", [U("Hi"), A("Hello")], {"continue_final_message": True, "enable_thinking": False}),
]


def main():
    v = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    bad = {k: (v[k], want) for k, want in PINNED.items() if v[k] != want}
    if bad:
        raise SystemExit(f"unpinned reference: {bad}")
    hf_logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    tokenizers = {}
    lines = []
    for name, template, conv, options in CASES:
        tok = TOKENIZER_OF[template]
        if tok not in tokenizers:
            tokenizers[tok] = AutoTokenizer.from_pretrained(str(TOKENIZERS / tok))
        proc = Qwen3VLProcessor(
            image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizers[tok], video_processor=Qwen3VLVideoProcessor(),
            chat_template=(TEMPLATES / f"{template}.jinja").read_text(encoding="utf-8"),
        )
        row = {"name": name, "template": template, "conversation": conv, "options": options}
        try:
            row["text"] = proc.apply_chat_template(json.loads(json.dumps(conv)), tokenize=False, **options)
        except Exception as e:  # noqa: BLE001
            row["error"] = str(e)
            row["error_type"] = type(e).__name__
        lines.append(json.dumps(row, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(REPO)}: {len(lines)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
