// Package safetensors reads and writes the safetensors tensor format used
// by Hugging Face checkpoints, and opens sharded checkpoint directories.
//
// # Format
//
// A safetensors file is
//
//	[8 bytes]  N: little-endian uint64, the length of the header
//	[N bytes]  header: a UTF-8 JSON object, optionally padded with spaces
//	[rest]     data section: the raw bytes of every tensor
//
// The header maps each tensor name to its description, plus an optional
// "__metadata__" entry holding a string-to-string map:
//
//	{"__metadata__": {"format": "pt"},
//	 "a.weight": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]},
//	 "a.bias":   {"dtype": "BF16", "shape": [3], "data_offsets": [12, 18]}}
//
// data_offsets are [begin, end) byte offsets relative to the start of the
// data section. Tensor data is row-major (C order) and little-endian; a
// tensor with shape [] is a scalar with one element, and a zero dimension
// makes an empty tensor occupying no bytes. The dtypes are listed by
// DTypes; BF16 is the top half of an IEEE binary32, F16 is IEEE binary16.
//
// # Guarantees
//
// Reading validates everything before any tensor is handed out, and
// rejects, rather than repairs, anything the reference implementation would
// reject: header lengths beyond MaxHeaderSize or the file, invalid UTF-8 or
// JSON, duplicate keys, unknown dtypes or fields, negative or overflowing
// shapes, sizes that disagree with shape and dtype, and tensors that
// overlap, leave gaps, or do not reach the end of the file. Malformed input
// never causes a panic; errors name the file and the problem, start with
// "safetensors: ", and match ErrInvalid (format problems) or wrap the
// underlying I/O error. Parsers are fuzz-tested.
//
// On unix systems files are memory-mapped read-only, so only the tensors
// actually used are read from disk; Bytes returns views into the mapping,
// valid until Close, which must not be written to. As with any mapping,
// the file must not be truncated while open. Elsewhere files are read into
// memory. Float32 and Int64 return copies, converting F16 and BF16 exactly.
//
// Writing (Write, WriteFile) produces the same bytes as the reference
// implementation for the same tensor order: compact JSON padded with
// spaces to a multiple of 8 bytes, then the tensor data, contiguous, in the
// order given. WriteFile is atomic, with the module's durability policy
// (internal/fsutil): the file appears complete or not at all.
//
// A checkpoint directory (OpenDir) is either a single model.safetensors, or
// shards listed in model.safetensors.index.json, of which only those holding
// the requested tensors are opened, or any set of *.safetensors files.
// ParseIndex is the module's one parser of index files and CheckShardName
// its one rule for shard names: package hub uses them too, so that what it
// accepts the loader accepts.
package safetensors
