package gguf

import (
	"encoding/binary"
	"math"
)

// builder writes GGUF bytes field by field, for malformed files the tests need (the
// well-formed fixture, testdata/gguf/types.gguf, comes from llama.cpp's own writer).
type builder struct{ b []byte }

func (w *builder) u32(v uint32) *builder  { w.b = binary.LittleEndian.AppendUint32(w.b, v); return w }
func (w *builder) u64(v uint64) *builder  { w.b = binary.LittleEndian.AppendUint64(w.b, v); return w }
func (w *builder) str(s string) *builder  { w.u64(uint64(len(s))); w.b = append(w.b, s...); return w }
func (w *builder) raw(p ...byte) *builder { w.b = append(w.b, p...); return w }

// header writes the magic, version 3 and the counts.
func (w *builder) header(tensors, kvs uint64) *builder {
	return w.raw('G', 'G', 'U', 'F').u32(3).u64(tensors).u64(kvs)
}

// tensor writes one tensor info.
func (w *builder) tensor(name string, dims []uint64, dtype uint32, offset uint64) *builder {
	w.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		w.u64(d)
	}
	return w.u32(dtype).u64(offset)
}

// padTo pads with zeros to a multiple of align.
func (w *builder) padTo(align int) *builder {
	for len(w.b)%align != 0 {
		w.b = append(w.b, 0)
	}
	return w
}

// f32s appends float32 values.
func (w *builder) f32s(vs ...float32) *builder {
	for _, v := range vs {
		w.u32(math.Float32bits(v))
	}
	return w
}

// small is a well-formed file: one u32 key, one [2, 3] F32 tensor (ne = [3, 2]) with values
// 0 … 5, at the default alignment.
func small() []byte {
	w := (&builder{}).header(1, 1).str("clip.vision.block_count").u32(uint32(TypeUint32)).u32(24)
	w.tensor("v.patch_embd.weight", []uint64{3, 2}, uint32(F32), 0).padTo(DefaultAlignment)
	return w.f32s(0, 1, 2, 3, 4, 5).b
}
