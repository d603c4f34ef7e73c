// Package gguf reads GGUF files, the format of llama.cpp and ggml (versions 2 and 3): the
// header, the metadata key/value pairs, the tensor infos and the tensor data, memory-mapped.
//
// Layout (little-endian throughout):
//
//	"GGUF" | version u32 | tensor count u64 | key/value count u64
//	key/value pairs: key string | value type u32 | value (an array: element type u32, count u64, elements)
//	tensor infos:    name string | n_dims u32 | ne[n_dims] u64 | ggml type u32 | offset u64
//	padding to the alignment (general.alignment, u32, a power of two; 32 when absent)
//	tensor data:     each tensor at data start + offset, each padded to the alignment
//
// A string is a u64 length and that many bytes. ne[0] is the fastest-varying dimension, so a
// tensor's PyTorch shape is ne reversed (TensorInfo.Shape) and its bytes are row-major in it.
//
// Everything is validated as llama.cpp's gguf.cpp validates it, before any tensor is read: the
// magic and version; counts, string lengths and array lengths bounded by the bytes left (so a
// lying count cannot make us allocate); keys unique and non-empty; no arrays of arrays;
// general.alignment a u32 power of two; tensor names unique and under 64 bytes; at most four
// dimensions, none negative, their product representable; a known ggml type whose block size
// divides ne[0]; offsets exactly where the previous tensor's padded data ends; every tensor's
// bytes inside the file. Errors name the file and the problem.
//
// Tensor values come out as float32 (Float32s) for the types F32, F16, BF16 and Q8_0; other
// types are refused by name.
package gguf
