#!/usr/bin/env python3
"""A by-hand check over many real chat templates (not a committed golden).

Reads every distinct `chat_template` string in the model JSON files of an unpacked xinference
wheel (e.g. xinference-4.1.0-py3-none-any.whl, the public copy testdata/chat/templates/ came
from), renders each with three conversations (system + two user turns; a single user turn; a
tool call round with `tools`) in transformers 5.24.0's chat-template environment, and writes the
results in the format of testdata/chat/jinja.jsonl, to run the Go engine over them:

    tools/reference/.venv/bin/python tools/reference/jinja_wheel_templates.py UNPACKED_WHEEL_DIR OUT.jsonl
    JINJA_GOLDEN=OUT.jsonl go test ./internal/jinja -run 'TestJinjaGolden$'

On 2026-12-03: 85 distinct templates, 255 renders (246 outputs, 9 errors), all 255 as jinja2.
"""

import glob
import json
import os
import sys

import jinja2  # noqa: F401
from transformers.utils.chat_template_utils import _compile_jinja_template

CONVERSATIONS = {
    "basic": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi there"},
              {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "Tell me a joke."}],
    "user": [{"role": "user", "content": "What is 2+2?"}],
    "tools": [{"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
              {"role": "tool", "content": "sunny", "name": "get_weather"}, {"role": "user", "content": "Thanks"}],
}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "description": "City"}}, "required": ["city"]}}}]


def main():
    root, out = sys.argv[1], sys.argv[2]
    seen = {}
    for f in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
        try:
            d = json.load(open(f, encoding="utf-8"))
        except Exception:  # noqa: BLE001
            continue
        for it in d if isinstance(d, list) else [d]:
            if isinstance(it, dict) and isinstance(it.get("chat_template"), str) and it["chat_template"]:
                seen.setdefault(it["chat_template"], it.get("model_name") or os.path.basename(f))
    rows = []
    for i, (tpl, name) in enumerate(seen.items()):
        for cname, msgs in CONVERSATIONS.items():
            vars = {"messages": msgs, "add_generation_prompt": True, "bos_token": "<s>", "eos_token": "</s>",
                    "tools": TOOLS if cname == "tools" else None, "documents": None}
            row = {"name": f"t{i:03d}_{cname}_{name}"[:80], "template": tpl, "vars": vars}
            try:
                row["output"] = _compile_jinja_template(tpl).render(**json.loads(json.dumps(vars)))
            except Exception as e:  # noqa: BLE001
                row["error"] = str(e)
                row["error_type"] = type(e).__name__
            rows.append(json.dumps(row, ensure_ascii=False))
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    print(f"{len(seen)} templates, {len(rows)} renders -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
