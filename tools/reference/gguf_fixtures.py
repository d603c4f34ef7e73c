"""Writes testdata/gguf/types.gguf with llama.cpp's own GGUF writer (the `gguf` package on PyPI,
gguf-py of llama.cpp, pinned in requirements.txt), and testdata/gguf/types.values.safetensors
with every tensor's values as gguf-py's own dequantize gives them (float32), for
internal/gguf's tests.

The file holds one metadata key of every value type (scalars and arrays) and, in each of the
dtypes internal/gguf reads (F32, F16, BF16, Q8_0), a 2-D and a 3-D tensor drawn from a fixed
seed, with general.alignment 64 so that padding between tensors is exercised; a Q4_0 tensor
last, which the reader must list but refuse to read.

    tools/reference/.venv/bin/python tools/reference/gguf_fixtures.py
"""

from pathlib import Path

import numpy as np
import gguf
from gguf import quants
from safetensors.numpy import save_file

OUT = Path(__file__).resolve().parents[2] / "testdata" / "gguf"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "types.gguf"
    rng = np.random.default_rng(20261204)
    w = gguf.GGUFWriter(str(path), arch="clip")
    w.add_custom_alignment(64)  # general.alignment, and the writer pads to it
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "qwen3vl_merger ✓")
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float64("test.f64", 1e-300)
    w.add_array("test.ints", [1, -2, 3])  # gguf-py writes python ints as i32
    w.add_array("test.floats", [0.5, -1.25])
    w.add_array("test.bools", [True, False, True])
    w.add_array("test.strings", ["a", "", "ünïcode"])

    values = {}

    def add(name, data, qtype):
        if qtype == gguf.GGMLQuantizationType.F32:
            stored = data.astype(np.float32)
            w.add_tensor(name, stored)
        elif qtype == gguf.GGMLQuantizationType.F16:
            stored = data.astype(np.float16)
            w.add_tensor(name, stored)
        else:
            stored = quants.quantize(data.astype(np.float32), qtype)
            w.add_tensor(name, stored, raw_dtype=qtype)
        if qtype != gguf.GGMLQuantizationType.Q4_0:
            deq = quants.dequantize(stored, qtype) if qtype not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) else stored
            values[name] = np.ascontiguousarray(np.asarray(deq, dtype=np.float32).reshape(data.shape))

    Q = gguf.GGMLQuantizationType
    for qtype in (Q.F32, Q.F16, Q.BF16, Q.Q8_0):
        add(f"{qtype.name.lower()}.2d", rng.standard_normal((3, 64)) * 0.05, qtype)
        add(f"{qtype.name.lower()}.3d", rng.standard_normal((2, 5, 32)) * 2.0, qtype)
    add("f32.1d", rng.standard_normal(7), Q.F32)  # 7 × 4 bytes: the next tensor needs padding
    add("q4_0.2d", rng.standard_normal((2, 32)), Q.Q4_0)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(values, str(OUT / "types.values.safetensors"), metadata={"source": "gguf " + gguf.__version__ if hasattr(gguf, "__version__") else "gguf"})
    print(path, path.stat().st_size, "bytes;", len(values), "tensors of values")


if __name__ == "__main__":
    main()
