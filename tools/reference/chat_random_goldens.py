#!/usr/bin/env python3
"""Random conversation goldens: testdata/chat/random_conversations.jsonl.

400 random conversations (a fixed seed): random roles (system first or not, user, assistant,
tool), contents (strings with spaces, newlines, <think> and <tool_response> text, Unicode; lists
of text, image, image_url, bare image, video and bare video parts; null), assistant tool calls
(OpenAI-style and bare, arguments as objects or strings), reasoning under reasoning_content,
thinking or reasoning (sometimes null), the tools list, and random add_generation_prompt,
add_vision_id, enable_thinking and preserve_thinking; each rendered with one of the four
templates by the pinned processor:

    processor.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=..., **options)

(`Qwen3VLProcessor(..., chat_template=<testdata/chat/templates/<template>.jinja>)`, tokenizers from
testdata/tokenizer/). One JSON object a line: {"name", "template", "conversation", "options",
"text"} or "error"/"error_type" instead of "text" when it raises. transformers 5.24.0, jinja2 3.1.6.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/chat_random_goldens.py

Deterministic: a rerun writes identical bytes.
"""

import json
import random
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")
import jinja2  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer, Qwen3VLProcessor
from transformers.models.qwen2_vl import Qwen2VLImageProcessor
from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
if (transformers.__version__, jinja2.__version__) != ("5.24.0", "3.1.6"):
    raise SystemExit(f"unpinned reference: transformers {transformers.__version__}, jinja2 {jinja2.__version__}")
REPO = Path(__file__).resolve().parent.parent.parent
OUT = REPO / "testdata" / "chat" / "random_conversations.jsonl"
SEED = 20261203
COUNT = 400
rnd = random.Random(SEED)
TEMPLATES = {"qwen3-vl-instruct": "qwen3vl", "qwen3-vl-thinking": "qwen3vl", "qwen3.5": "qwen3.5", "qwen3.6": "qwen3.5"}
procs = {}
for t, tok in TEMPLATES.items():
    procs[t] = Qwen3VLProcessor(image_processor=Qwen2VLImageProcessor(), tokenizer=AutoTokenizer.from_pretrained(str(REPO / "testdata/tokenizer" / tok)),
                                video_processor=Qwen3VLVideoProcessor(), chat_template=(REPO / "testdata/chat/templates" / f"{t}.jinja").read_text())
TEXTS = ["hi", "", " ", "  spaced  ", "\n\nnl\n", "<think>\nr\n</think>\n\nans", "<tool_response>\nx\n</tool_response>", "é 中 😀", "a\u3000", "<think>only", "x</think>y", "None", "{\"a\": 1}"]
def part():
    r = rnd.random()
    if r < 0.4: return {"type": "text", "text": rnd.choice(TEXTS)}
    if r < 0.55: return {"type": "image", "image": "a.png"}
    if r < 0.62: return {"type": "image_url", "image_url": {"url": "u"}}
    if r < 0.7: return {"image": "b.png"}
    if r < 0.8: return {"type": "video", "video": "v.mp4"}
    if r < 0.85: return {"video": ["f1", "f2"]}
    if r < 0.9: return {"type": "text", "text": rnd.choice(TEXTS), "extra": 1}
    return {"text": rnd.choice(TEXTS)}
def content():
    r = rnd.random()
    if r < 0.5: return rnd.choice(TEXTS)
    if r < 0.9: return [part() for _ in range(rnd.randint(0, 3))]
    return None
ARGS = [{"a": 1}, {"city": "Paris", "days": 3, "units": None, "opts": {"x": [1, 2.5, True]}}, "{\"raw\": 1}", {}, {"s": "é", "f": 1.0, "l": []}]
def tool_call():
    r = rnd.random()
    if r < 0.7: return {"type": "function", "function": {"name": rnd.choice(["f", "get_weather"]), "arguments": rnd.choice(ARGS)}}
    return {"name": "g", "arguments": rnd.choice(ARGS)}
def message(i, n):
    role = rnd.choice(["user", "user", "assistant", "assistant", "tool", "system"] if i > 0 else ["system", "user", "user", "tool"])
    m = {"role": role, "content": content()}
    if role == "assistant":
        if rnd.random() < 0.3: m["tool_calls"] = [tool_call() for _ in range(rnd.randint(1, 2))]
        if rnd.random() < 0.25: m[rnd.choice(["reasoning_content", "thinking", "reasoning"])] = rnd.choice(["think", " pad ", None, "\nx\n"])
    return m
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
rows = []
for i in range(COUNT):
    n = rnd.randint(1, 5)
    msgs = [message(j, n) for j in range(n)]
    tools = TOOLS if rnd.random() < 0.3 else None
    t = rnd.choice(list(TEMPLATES))
    opts = {"add_generation_prompt": rnd.random() < 0.6}
    for k in ["add_vision_id", "enable_thinking", "preserve_thinking"]:
        if rnd.random() < 0.3: opts[k] = rnd.random() < 0.5
    conv = {"messages": msgs, "tools": tools} if tools else msgs
    row = {"name": f"c{i:04d}", "template": t, "conversation": conv, "options": opts}
    try:
        agp = opts["add_generation_prompt"]
        rest = {k: v for k, v in opts.items() if k != "add_generation_prompt"}
        row["text"] = procs[t].apply_chat_template(json.loads(json.dumps(msgs)), tools=tools, tokenize=False, add_generation_prompt=agp, **rest)
    except Exception as e:
        row["error"] = str(e); row["error_type"] = type(e).__name__
    rows.append(json.dumps(row, ensure_ascii=False))
OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
print(f"wrote {OUT.relative_to(REPO)}: {len(rows)} cases", file=sys.stderr)
