"""vLLM's own multimodal hash, and its example EC connector reading our encoder-cache entries.

vLLM cannot run here (no GPU); as tools/reference/vllm_embeds_check.py does, this script imports
the few vLLM 0.34.0 modules it needs straight from the sdist, with their pure-Python
dependencies (plus `blake3`, vLLM's default hasher) in a separate folder. Set-up: that script's
docstring (the sdist in /tmp/vllmsd, `pip install --no-deps --target /tmp/vllm-deps -r
tools/reference/vllm_check_requirements.txt`).

Two commands, from the repository root:

    # 1. vLLM's mm_hash for every case of a case list (testdata/vllm/ec/cases.json):
    tools/reference/.venv/bin/python tools/reference/vllm_ec_check.py hashes \
        --vllm-src /tmp/vllmsd/vllm-0.34.0 --deps /tmp/vllm-deps \
        --cases testdata/vllm/ec/cases.json --out testdata/vllm/ec/hashes.json

    # 2. our `qwen3vl encode -format vllm-ec -o ROOT` entries read back by vLLM's connector:
    tools/reference/.venv/bin/python tools/reference/vllm_ec_check.py entries \
        --vllm-src /tmp/vllmsd/vllm-0.34.0 --deps /tmp/vllm-deps \
        --root ROOT --features F.safetensors --model MODEL [--algorithm A] [--mm-kwargs JSON] \
        --verdict V.json IMAGE...

`hashes` runs vLLM's path for an image_url part on its OpenAI server: the file as a base64 data
URL through MediaConnector.fetch_image (vllm/multimodal/media/connector.py; ImageMediaIO.load_bytes
in vllm/multimodal/media/image.py wraps the picture in MediaWithBytes with the original bytes and,
when it converted the picture, its io_config), parsed by MultiModalDataParser
(vllm/multimodal/parse.py), then ProcessorInputs.get_mm_hashes (vllm/multimodal/processing/inputs.py:
which kwargs are hashed) and MultiModalHasher.hash_kwargs (vllm/multimodal/hasher.py). A case may
give "uuid" (a part's client-given uuid, mm_uuids). It also records, per image, Pillow's mode,
vLLM's io_config, and whether vLLM's loaded RGB pixels equal Pillow's plain convert("RGB") of the
upright image (the Hugging Face processor's load_image): where they differ (transparency composited
on white) our encoder's features are not vLLM's and `-format vllm-ec` refuses the image. And BLAKE3
digests (the `blake3` package vLLM imports) of the official test-vector inputs (byte i is i mod 251).

    # 3. our metadata-only image_embeds parts (`-vllm-ec-parts`) through vLLM's parsing, to the
    #    entries they name:
    tools/reference/.venv/bin/python tools/reference/vllm_ec_check.py refs \
        --vllm-src /tmp/vllmsd/vllm-0.34.0 --deps /tmp/vllm-deps \
        --parts P.json --root ROOT --features F.safetensors --model MODEL [--algorithm A] \
        [--mm-kwargs JSON] --verdict V.json

`entries` hashes each IMAGE as above with the given options, then lets vLLM's ECExampleConnector
(vllm/distributed/ec_transfer/ec_connector/example_connector.py) find the entry
(_found_match_for_mm_data, the consumer's has_cache_item) and load it (start_load_caches on CPU:
safetensors.torch.load_file(...)["ec_cache"] into the encoder cache dict). Each loaded tensor must
equal, bit for bit, the item's rows of torch.cat([pooler_output, deepstack_features.0, ...], dim=1)
in our -format safetensors output of the same inputs (IMAGE order = item order). Exit status 1 on
any failure.

`refs` reads each part as an EC consumer's OpenAI server reads an image_embeds part: its fields
against MultiModalDataParser.embedding_field_sets with allow_missing_mm_embeddings (what
vllm/config/vllm.py sets for an ec_consumer; the fields Qwen3-VL declares,
Qwen2VLMultiModalDataParser.embedding_fields, read with ast), the dict through _load_embeds_dict
and _parse_metadata_array; then the item's identifier from its uuid with get_mm_hashes (the
request's mm_processor_kwargs as hash factors), and the connector's lookup and load of that
entry. The grid must equal the item's, and the loaded tensor its rows, bit for bit.
"""

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

USED = [
    "vllm/multimodal/hasher.py",
    "vllm/multimodal/media/base.py",
    "vllm/multimodal/media/image.py",
    "vllm/multimodal/media/connector.py",
    "vllm/multimodal/image.py",
    "vllm/multimodal/parse.py",
    "vllm/multimodal/processing/inputs.py",
    "vllm/renderers/chat_utils/content_parser.py",
    "vllm/renderers/chat_utils/item_tracker.py",
    "vllm/model_executor/models/qwen2_vl.py",
    "vllm/distributed/ec_transfer/ec_connector/example_connector.py",
]

MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
        "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff"}


def setup(args):
    sys.path[:0] = [str(args.vllm_src), str(args.deps)]


def load(path: Path):
    """vLLM's load of a base64 data URL of the file, as the OpenAI server does for an image_url."""
    from vllm.multimodal.media.connector import MediaConnector

    data = path.read_bytes()
    url = f"data:{MIME[path.suffix.lstrip('.').lower()]};base64,{base64.b64encode(data).decode()}"
    return MediaConnector().fetch_image(url)


def mm_hash(item, model, algorithm, kwargs, uuid=None):
    from vllm.multimodal.parse import MultiModalDataParser
    from vllm.multimodal.processing.inputs import ProcessorInputs

    items = MultiModalDataParser().parse_mm_data({"image": [item]})
    inputs = ProcessorInputs(
        prompt=[],
        mm_data_items=items,
        mm_uuid_items={"image": [uuid]} if uuid is not None else None,
        hf_processor_mm_kwargs=kwargs or {},
        media_io_kwargs={},
    )
    return inputs.get_mm_hashes(model, algorithm)["image"][0]


def same_as_hf(path: Path, loaded) -> bool:
    """vLLM's loaded RGB pixels equal Pillow's exif_transpose + convert("RGB") (load_image's)."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        ref = ImageOps.exif_transpose(im).convert("RGB")
        return bool(np.array_equal(np.asarray(ref), np.asarray(loaded.media.convert("RGB"))))


def cmd_hashes(args) -> int:
    from PIL import Image
    from blake3 import blake3

    import vllm

    cases = json.loads(args.cases.read_text())
    root = args.cases.parent
    images, out = {}, []
    for c in cases:
        path = (root / c["file"]).resolve()
        item = load(path)
        name = c["file"]
        if name not in images:
            with Image.open(path) as im:
                mode = im.mode
            images[name] = {
                "pillow_mode": mode,
                "io_config": None if item.io_config is None else {k: list(v) if isinstance(v, tuple) else v for k, v in item.io_config.items()},
                "vllm_rgb_equals_hf_rgb": same_as_hf(path, item),
            }
        kw = c.get("mm_processor_kwargs")
        h = mm_hash(item, c["model"], c.get("algorithm", "blake3"), kw, c.get("uuid"))
        # The kwargs as a JSON string: this file's keys are sorted, and their order is hashed.
        rest = {key: v for key, v in c.items() if key != "mm_processor_kwargs"}
        if kw is not None:
            rest["mm_processor_kwargs_json"] = json.dumps(kw, ensure_ascii=False)
        out.append({**rest, "mm_hash": h})
    vectors = {}
    for n in [0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121,
              6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400]:
        vectors[str(n)] = blake3(bytes(i % 251 for i in range(n))).hexdigest()
    doc = {
        "vllm": getattr(vllm, "__version__", "unknown"),
        "vllm_files_sha256": {f: hashlib.sha256((args.vllm_src / f).read_bytes()).hexdigest() for f in USED},
        "images": images,
        "cases": out,
        "blake3_vectors": vectors,
    }
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(json.dumps({"cases": len(out), "images": len(images)}))
    return 0


def cmd_entries(args) -> int:
    import torch
    from safetensors.torch import load_file

    import vllm
    from vllm.distributed.ec_transfer.ec_connector.example_connector import (
        ECExampleConnector,
        ECExampleConnectorMetadata,
        MMMeta,
    )
    from vllm.platforms import current_platform

    kwargs = json.loads(args.mm_kwargs) if args.mm_kwargs else None
    feats = load_file(str(args.features))
    k = sum(1 for name in feats if name.startswith("deepstack_features."))
    full = torch.cat([feats["pooler_output"]] + [feats[f"deepstack_features.{i}"] for i in range(k)], dim=1)
    grids = feats["grid_thw"]
    merge2 = feats["last_hidden_state"].shape[0] // feats["pooler_output"].shape[0]
    if len(args.images) != grids.shape[0]:
        raise SystemExit(f"{len(args.images)} images for {grids.shape[0]} items")

    # The connector as a consumer would hold it, without a VllmConfig: only its storage path is
    # read by the methods run here.
    conn = object.__new__(ECExampleConnector)
    conn._storage_path = str(args.root)
    current_platform.device_type = "cpu"  # the CPU load (no accelerator here)

    results, ok, row = [], True, 0
    for i, img in enumerate(args.images):
        h = mm_hash(load(Path(img)), args.model, args.algorithm, kwargs)
        found = conn._found_match_for_mm_data(h)
        n = int(grids[i].prod()) // merge2
        want = full[row : row + n]
        row += n
        res = {"image": img, "mm_hash": h, "found": found}
        if found:
            meta = ECExampleConnectorMetadata()
            meta.add_mm_data(MMMeta.make_meta(h, n))
            conn._get_connector_metadata = lambda meta=meta: meta
            cache = {}
            conn.start_load_caches(cache)
            t = cache[h]
            same = t.dtype == torch.float32 and t.shape == want.shape and torch.equal(
                t.contiguous().view(torch.int32), want.contiguous().view(torch.int32)
            )
            res.update({"dtype": str(t.dtype), "shape": list(t.shape), "bit_identical": bool(same)})
        else:
            same = False
        ok &= bool(same)
        results.append(res)
    verdict = {
        "vllm": getattr(vllm, "__version__", "unknown"),
        "torch": torch.__version__,
        "vllm_files_sha256": {f: hashlib.sha256((args.vllm_src / f).read_bytes()).hexdigest() for f in USED},
        "model": args.model,
        "algorithm": args.algorithm,
        "mm_processor_kwargs_json": args.mm_kwargs,  # a string: the keys here are sorted, theirs are hashed in order
        "deepstack_sets": k,
        "entries": results,
        "all_found_and_bit_identical": bool(ok),
    }
    args.verdict.write_text(json.dumps(verdict, indent=1, sort_keys=True) + "\n")
    print(json.dumps({"all_found_and_bit_identical": bool(ok), "entries": len(results)}))
    return 0 if ok else 1


def embedding_fields(src: Path) -> dict:
    """Qwen2VLMultiModalDataParser.embedding_fields in qwen2_vl.py, as a literal."""
    import ast

    tree = ast.parse((src / "vllm/model_executor/models/qwen2_vl.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Qwen2VLMultiModalDataParser":
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "embedding_fields" for t in stmt.targets
                ):
                    return ast.literal_eval(stmt.value)
    raise SystemExit("Qwen2VLMultiModalDataParser.embedding_fields not found")


def cmd_refs(args) -> int:
    import asyncio

    import torch
    from safetensors.torch import load_file

    import vllm
    from vllm.distributed.ec_transfer.ec_connector.example_connector import (
        ECExampleConnector,
        ECExampleConnectorMetadata,
        MMMeta,
    )
    from vllm.multimodal.media.connector import MediaConnector
    from vllm.multimodal.parse import MultiModalDataParser
    from vllm.multimodal.processing.inputs import ProcessorInputs
    from vllm.platforms import current_platform
    from vllm.renderers.chat_utils.content_parser import _load_embeds_dict
    from vllm.renderers.chat_utils.item_tracker import _parse_metadata_array

    class Parser(MultiModalDataParser):
        pass

    Parser.embedding_fields = embedding_fields(args.vllm_src)
    required, optional = Parser(allow_missing_mm_embeddings=True).embedding_field_sets("image")
    metadata = Parser.placeholder_metadata_fields("image")

    class Items:  # the data items get_mm_hashes walks; a uuid stands in for each
        def __init__(self, n):
            self.n = n

        def get_all_items_for_hash(self):
            return [None] * self.n

    kwargs = json.loads(args.mm_kwargs) if args.mm_kwargs else None
    feats = load_file(str(args.features))
    k = sum(1 for name in feats if name.startswith("deepstack_features."))
    full = torch.cat([feats["pooler_output"]] + [feats[f"deepstack_features.{i}"] for i in range(k)], dim=1)
    grids = feats["grid_thw"]
    merge2 = feats["last_hidden_state"].shape[0] // feats["pooler_output"].shape[0]
    parts = json.loads(args.parts.read_text())
    if len(parts) != grids.shape[0]:
        raise SystemExit(f"{len(parts)} parts for {grids.shape[0]} items")

    conn = object.__new__(ECExampleConnector)
    conn._storage_path = str(args.root)
    current_platform.device_type = "cpu"
    media = MediaConnector()
    results, ok, row = [], True, 0
    for i, part in enumerate(parts):
        payload = part.get("image_embeds")
        fields_ok = (
            part.get("type") == "image_embeds"
            and isinstance(payload, dict)
            and required <= set(payload) <= required | optional
            and isinstance(part.get("uuid"), str)
        )
        data = asyncio.run(_load_embeds_dict(payload, media.fetch_image_embedding_async))
        data = {key: _parse_metadata_array(key, v, metadata) if isinstance(v, list) else v for key, v in data.items()}
        grid = data["image_grid_thw"]
        grid_ok = grid.dtype == torch.int64 and torch.equal(grid, grids[i])
        inputs = ProcessorInputs(
            prompt=[], mm_data_items={"image": Items(1)}, mm_uuid_items={"image": [part["uuid"]]},
            hf_processor_mm_kwargs=kwargs or {}, media_io_kwargs={},
        )
        ident = inputs.get_mm_hashes(args.model, args.algorithm)["image"][0]
        n = int(grids[i].prod()) // merge2
        want = full[row : row + n]
        row += n
        found = conn._found_match_for_mm_data(ident)
        same = False
        if found:
            meta = ECExampleConnectorMetadata()
            meta.add_mm_data(MMMeta.make_meta(ident, n))
            conn._get_connector_metadata = lambda meta=meta: meta
            cache = {}
            conn.start_load_caches(cache)
            t = cache[ident]
            same = t.dtype == torch.float32 and t.shape == want.shape and torch.equal(
                t.contiguous().view(torch.int32), want.contiguous().view(torch.int32)
            )
        good = fields_ok and grid_ok and found and same
        ok &= bool(good)
        results.append({"part": i, "uuid": part["uuid"], "identifier": ident, "fields_accepted": bool(fields_ok),
                        "grid": grid.tolist(), "grid_equal": bool(grid_ok), "found": bool(found), "bit_identical": bool(same)})
    verdict = {
        "vllm": getattr(vllm, "__version__", "unknown"),
        "torch": torch.__version__,
        "vllm_files_sha256": {f: hashlib.sha256((args.vllm_src / f).read_bytes()).hexdigest() for f in USED},
        "required_fields": sorted(required),
        "optional_fields": sorted(optional),
        "model": args.model,
        "algorithm": args.algorithm,
        "mm_processor_kwargs_json": args.mm_kwargs,
        "parts": results,
        "all_accepted_found_and_bit_identical": bool(ok),
    }
    args.verdict.write_text(json.dumps(verdict, indent=1, sort_keys=True) + "\n")
    print(json.dumps({"all_accepted_found_and_bit_identical": bool(ok), "parts": len(results)}))
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("hashes", "entries", "refs"):
        p = sub.add_parser(name)
        p.add_argument("--vllm-src", required=True, type=Path)
        p.add_argument("--deps", required=True, type=Path)
    h = sub.choices["hashes"]
    h.add_argument("--cases", required=True, type=Path)
    h.add_argument("--out", required=True, type=Path)
    e = sub.choices["entries"]
    e.add_argument("--root", required=True, type=Path)
    e.add_argument("--features", required=True, type=Path)
    e.add_argument("--model", required=True)
    e.add_argument("--algorithm", default="blake3")
    e.add_argument("--mm-kwargs", default="")
    e.add_argument("--verdict", required=True, type=Path)
    e.add_argument("images", nargs="+")
    r = sub.choices["refs"]
    r.add_argument("--parts", required=True, type=Path)
    r.add_argument("--root", required=True, type=Path)
    r.add_argument("--features", required=True, type=Path)
    r.add_argument("--model", required=True)
    r.add_argument("--algorithm", default="blake3")
    r.add_argument("--mm-kwargs", default="")
    r.add_argument("--verdict", required=True, type=Path)
    args = ap.parse_args()
    setup(args)
    return {"hashes": cmd_hashes, "entries": cmd_entries, "refs": cmd_refs}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
