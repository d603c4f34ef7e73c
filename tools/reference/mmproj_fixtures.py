"""Converts a tiny bf16 checkpoint of the vision goldens into llama.cpp mmproj GGUF files with
llama.cpp's own converter, convert_hf_to_gguf.py --mmproj, at f32, f16, bf16 and q8_0. None of
llama.cpp's code is committed: the converter is run from the llama.cpp tree vendored in the
llama-cpp-python sdist (pinned below; 0.3.36 is also the newest on PyPI at the time of writing,
and its converter registers Qwen3_5ForConditionalGeneration, Qwen3_5MoeForConditionalGeneration
and Qwen4ExpForConditionalGeneration beside Qwen3-VL), with the gguf-py of that tree.

--family picks the checkpoint (default qwen3-vl):

    qwen3-vl     testdata/golden/tiny-checkpoint                          -> testdata/gguf/mmproj-tiny-{f32,f16,bf16,q8_0}.gguf
    qwen3.5      testdata/golden/family/tiny-qwen3.5-checkpoint           -> testdata/gguf/mmproj-tiny-qwen3.5-{...}.gguf
    qwen3.5-moe  testdata/golden/family/tiny-qwen3.5-moe-checkpoint       -> testdata/gguf/mmproj-tiny-qwen3.5-moe-{...}.gguf
    qwen4-exp    testdata/golden/family/tiny-qwen4-exp-checkpoint         -> testdata/gguf/mmproj-tiny-qwen4-exp-{...}.gguf

    mkdir -p /tmp/lcp && cd /tmp/lcp && pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 && tar xzf llama_cpp_python-0.3.36.tar.gz
    tools/reference/.venv/bin/python tools/reference/mmproj_fixtures.py --llama-cpp /tmp/lcp/llama_cpp_python-0.3.36/vendor/llama.cpp [--family qwen3.5]

The checkpoint folders have no preprocessor_config.json (the converter needs one for image_mean
and image_std): the released Qwen3-VL one's values are written beside a copy of the folder,
for every family (Qwen3.5, Qwen3.5-MoE and Qwen4-Exp use the Qwen3-VL processor; the converter
writes all three as projector type qwen3vl_merger, with no DeepStack layer flagged).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "testdata" / "golden"
OUT = REPO / "testdata" / "gguf"
LLAMA_CPP_PYTHON = "0.3.36"

# family: (checkpoint folder, output file stem).
FAMILIES = {
    "qwen3-vl": (GOLDEN / "tiny-checkpoint", "mmproj-tiny"),
    "qwen3.5": (GOLDEN / "family" / "tiny-qwen3.5-checkpoint", "mmproj-tiny-qwen3.5"),
    "qwen3.5-moe": (GOLDEN / "family" / "tiny-qwen3.5-moe-checkpoint", "mmproj-tiny-qwen3.5-moe"),
    "qwen4-exp": (GOLDEN / "family" / "tiny-qwen4-exp-checkpoint", "mmproj-tiny-qwen4-exp"),
}

# Qwen/Qwen3-VL-2B-Instruct's preprocessor_config.json (the values imageproc.DefaultOptions has);
# a public copy of a Qwen3.5-35B-A3B derivative's preprocessor_config.json has the same keys and
# values (the hub is out of reach here), and the converter reads only image_mean and image_std.
PREPROCESSOR = {
    "size": {"longest_edge": 16777216, "shortest_edge": 65536},
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "Qwen3VLProcessor",
    "image_processor_type": "Qwen2VLImageProcessorFast",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, type=Path, help="the llama.cpp tree of the llama-cpp-python %s sdist" % LLAMA_CPP_PYTHON)
    ap.add_argument("--family", default="qwen3-vl", choices=sorted(FAMILIES), help="which tiny checkpoint to convert")
    args = ap.parse_args()
    checkpoint, stem = FAMILIES[args.family]
    converter = args.llama_cpp / "convert_hf_to_gguf.py"
    if not converter.is_file():
        sys.exit(f"{converter}: not found")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "tiny"
        shutil.copytree(checkpoint, model)
        (model / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2))
        env = dict(os.environ, PYTHONPATH=str(args.llama_cpp / "gguf-py"))
        for outtype in ("f32", "f16", "bf16", "q8_0"):
            out = OUT / f"{stem}-{outtype}.gguf"
            subprocess.run([sys.executable, str(converter), str(model), "--mmproj", "--outtype", outtype, "--outfile", str(out)],
                           check=True, env=env, cwd=args.llama_cpp)
            print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
