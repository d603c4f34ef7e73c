"""Decode our vLLM image_embeds content parts with vLLM's own code and compare them with our features.

vLLM cannot run here (no GPU), and installing its wheel would pull CUDA builds, so this script
imports the few modules the OpenAI server uses to read an `image_embeds` part straight from the
vLLM sdist, with their small pure-Python dependencies in a separate folder (never the pinned
venv). Set-up, from the repository root (vLLM 0.34.0, the newest release on PyPI when written):

    # the sdist (pip download --no-binary tries to build it; fetch the file itself)
    mkdir -p /tmp/vllmsd && cd /tmp/vllmsd && curl -sSLO \
        "$(curl -sS -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/vllm/ \
           | python3 -c "import json,sys; print([f['url'] for f in json.load(sys.stdin)['files'] if f['filename']=='vllm-0.34.0.tar.gz'][0])")" \
        && tar xzf vllm-0.34.0.tar.gz && cd -
    tools/reference/.venv/bin/python -m pip install --no-deps --target /tmp/vllm-deps \
        -r tools/reference/vllm_check_requirements.txt

Then:

    tools/reference/.venv/bin/python tools/reference/vllm_embeds_check.py \
        --vllm-src /tmp/vllmsd/vllm-0.34.0 --deps /tmp/vllm-deps \
        --parts testdata/vllm/parts.json --features testdata/vllm/features.safetensors \
        --verdict testdata/vllm/verdict.json

What runs is vLLM's path for a dict-valued `image_embeds` part on its async OpenAI server
(vllm/renderers/chat_utils/content_parser.py, AsyncMultiModalContentParser and
_load_embeds_dict): every string value through MediaConnector.fetch_image_embedding_async,
i.e. ImageEmbeddingMediaIO.load_base64 (vllm/multimodal/media/image.py), and every JSON array
through _parse_metadata_array (vllm/renderers/chat_utils/item_tracker.py) with the metadata
fields Qwen3-VL declares (Qwen2VLMultiModalDataParser.embedding_fields in
vllm/model_executor/models/qwen2_vl.py, read with ast: importing the model module needs
xgrammar and more). The decoded image_embeds must equal, bit for bit, the item's rows of
torch.cat([pooler_output, deepstack_features.0, ...], dim=1) from our -format safetensors
output of the same run, and image_grid_thw the item's grid_thw row. The verdict (JSON) records
the vLLM version, the sha256 of each vLLM file used, and per part the decoded shape, dtype and
result; the exit status is 1 if any part fails.
"""

import argparse
import ast
import asyncio
import hashlib
import json
import sys
from pathlib import Path

USED = [
    "vllm/multimodal/media/image.py",
    "vllm/multimodal/media/connector.py",
    "vllm/renderers/chat_utils/content_parser.py",
    "vllm/renderers/chat_utils/item_tracker.py",
    "vllm/renderers/chat_utils/types.py",
    "vllm/model_executor/models/qwen2_vl.py",
    "vllm/model_executor/models/qwen3_vl.py",
]


def embedding_fields(src: Path, cls: str) -> dict:
    """The class attribute embedding_fields of cls in qwen2_vl.py, as a literal."""
    tree = ast.parse((src / "vllm/model_executor/models/qwen2_vl.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "embedding_fields" for t in stmt.targets
                ):
                    return ast.literal_eval(stmt.value)
    raise SystemExit(f"{cls}.embedding_fields not found in qwen2_vl.py")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vllm-src", required=True, type=Path)
    ap.add_argument("--deps", required=True, type=Path)
    ap.add_argument("--parts", required=True, type=Path)
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--verdict", required=True, type=Path)
    args = ap.parse_args()
    sys.path[:0] = [str(args.vllm_src), str(args.deps)]

    import torch
    from safetensors.torch import load_file

    import vllm
    from vllm.multimodal.media.connector import MediaConnector
    from vllm.renderers.chat_utils.content_parser import _load_embeds_dict
    from vllm.renderers.chat_utils.item_tracker import _parse_metadata_array

    fields = embedding_fields(args.vllm_src, "Qwen2VLMultiModalDataParser")["image"]
    metadata = {k for k, role in fields.items() if role == "metadata"}
    required = set(fields)

    feats = load_file(str(args.features))
    k = sum(1 for name in feats if name.startswith("deepstack_features."))
    full = torch.cat([feats["pooler_output"]] + [feats[f"deepstack_features.{i}"] for i in range(k)], dim=1)
    grids = feats["grid_thw"]
    merge2 = feats["last_hidden_state"].shape[0] // feats["pooler_output"].shape[0]

    parts = json.loads(args.parts.read_text())
    if len(parts) != grids.shape[0]:
        raise SystemExit(f"{len(parts)} parts for {grids.shape[0]} items")
    connector = MediaConnector()
    results, ok, row = [], True, 0
    for i, part in enumerate(parts):
        if part.get("type") != "image_embeds" or not isinstance(part.get("image_embeds"), dict):
            raise SystemExit(f"part {i}: not an image_embeds part with a dict")
        payload = part["image_embeds"]
        if set(payload) != required:
            raise SystemExit(f"part {i}: keys {sorted(payload)}, Qwen3-VL requires {sorted(required)}")
        # vLLM's async server path, then its metadata-array parsing.
        data = asyncio.run(_load_embeds_dict(payload, connector.fetch_image_embedding_async))
        data = {
            key: _parse_metadata_array(key, v, metadata) if isinstance(v, list) else v for key, v in data.items()
        }
        emb, grid = data["image_embeds"], data["image_grid_thw"]
        n = int(grids[i].prod()) // merge2
        want = full[row : row + n]
        row += n
        same_emb = (
            emb.dtype == torch.float32
            and emb.shape == want.shape
            and torch.equal(emb.contiguous().view(torch.int32), want.contiguous().view(torch.int32))
        )
        same_grid = grid.dtype == torch.int64 and torch.equal(grid, grids[i])
        ok &= same_emb and same_grid
        results.append(
            {
                "part": i,
                "image_embeds": {"dtype": str(emb.dtype), "shape": list(emb.shape), "bit_identical": same_emb},
                "image_grid_thw": {"dtype": str(grid.dtype), "value": grid.tolist(), "equal": same_grid},
            }
        )
    verdict = {
        "vllm": vllm.__version__ if hasattr(vllm, "__version__") else "unknown",
        "torch": torch.__version__,
        "vllm_files_sha256": {
            f: hashlib.sha256((args.vllm_src / f).read_bytes()).hexdigest() for f in USED
        },
        "deepstack_sets": k,
        "parts": results,
        "all_bit_identical": bool(ok),
    }
    args.verdict.write_text(json.dumps(verdict, indent=1, sort_keys=True) + "\n")
    print(json.dumps({"all_bit_identical": bool(ok), "parts": len(parts)}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
