"""Converts testdata/golden/tiny-checkpoint (the tiny bf16 Qwen3-VL checkpoint of the vision
goldens) into llama.cpp mmproj GGUF files with llama.cpp's own converter,
convert_hf_to_gguf.py --mmproj, at f32, f16, bf16 and q8_0:
testdata/gguf/mmproj-tiny-{f32,f16,bf16,q8_0}.gguf. None of llama.cpp's code is committed: the
converter is run from the llama.cpp tree vendored in the llama-cpp-python sdist (pinned below),
with the gguf-py of that tree.

    mkdir -p /tmp/lcp && cd /tmp/lcp && pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 && tar xzf llama_cpp_python-0.3.36.tar.gz
    tools/reference/.venv/bin/python tools/reference/mmproj_fixtures.py --llama-cpp /tmp/lcp/llama_cpp_python-0.3.36/vendor/llama.cpp

The checkpoint folder has no preprocessor_config.json (the converter needs one for image_mean
and image_std): the released Qwen3-VL one's values are written beside a copy of it.
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
CHECKPOINT = REPO / "testdata" / "golden" / "tiny-checkpoint"
OUT = REPO / "testdata" / "gguf"
LLAMA_CPP_PYTHON = "0.3.36"

# Qwen/Qwen3-VL-2B-Instruct's preprocessor_config.json (the values imageproc.DefaultOptions has).
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
    args = ap.parse_args()
    converter = args.llama_cpp / "convert_hf_to_gguf.py"
    if not converter.is_file():
        sys.exit(f"{converter}: not found")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "tiny"
        shutil.copytree(CHECKPOINT, model)
        (model / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2))
        env = dict(os.environ, PYTHONPATH=str(args.llama_cpp / "gguf-py"))
        for outtype in ("f32", "f16", "bf16", "q8_0"):
            out = OUT / f"mmproj-tiny-{outtype}.gguf"
            subprocess.run([sys.executable, str(converter), str(model), "--mmproj", "--outtype", outtype, "--outfile", str(out)],
                           check=True, env=env, cwd=args.llama_cpp)
            print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
