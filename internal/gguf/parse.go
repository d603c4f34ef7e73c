package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrInvalid is wrapped by every error about a malformed file.
var ErrInvalid = errors.New("invalid GGUF file")

// Limits of what Parse accepts, llama.cpp's (gguf.cpp, ggml.h).
const (
	// DefaultAlignment is the alignment when general.alignment is absent.
	DefaultAlignment = 32
	// MaxStringBytes bounds one string (GGUF_MAX_STRING_LENGTH).
	MaxStringBytes = 1 << 30
	// MaxArrayElements bounds one array (GGUF_MAX_ARRAY_ELEMENTS).
	MaxArrayElements = 1 << 30
	// MaxNameBytes bounds a tensor name (GGML_MAX_NAME, 64 with the C string's NUL).
	MaxNameBytes = 63
	// MaxDims is the most dimensions a tensor has (GGML_MAX_DIMS).
	MaxDims = 4
)

const magic = "GGUF"

// KeyAlignment is the metadata key of the data alignment.
const KeyAlignment = "general.alignment"

// File is a parsed GGUF file: its metadata and tensor infos, and (after Open) its bytes,
// memory-mapped. It is read-only and safe for concurrent use; Close releases the mapping.
type File struct {
	// Path is the file's path (for messages), "" when parsed from memory.
	Path string
	// Version is the GGUF version, 2 or 3.
	Version uint32
	// KV is the metadata in file order.
	KV []KV
	// Tensors are the tensor infos in file order.
	Tensors []TensorInfo
	// Alignment is general.alignment, or DefaultAlignment.
	Alignment int64
	// DataOffset is where the tensor data starts in the file.
	DataOffset int64

	data    []byte // the whole file
	keys    map[string]int
	tensors map[string]int
	release func() error
}

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor.
type TensorInfo struct {
	Name string
	// Dims is ggml's ne: Dims[0] varies fastest (the PyTorch shape reversed; see Shape).
	Dims []int64
	Type DType
	// Offset is where the tensor's bytes start, from DataOffset; Bytes how many there are.
	Offset, Bytes int64
}

// Shape returns the tensor's shape in PyTorch's order (outermost first): Dims reversed.
func (t TensorInfo) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[len(t.Dims)-1-i] = int(d)
	}
	return s
}

// Elements returns the number of elements (1 for a tensor without dimensions).
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Parse parses a whole GGUF file held in data (which the File keeps and reads tensors from).
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	return f, nil
}

// problem is a malformed-file error: wrapped by ErrInvalid.
func problem(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// reader reads the little-endian fields of a file from its bytes.
type reader struct {
	b   []byte
	off int64
}

func (r *reader) left() int64 { return int64(len(r.b)) - r.off }

func (r *reader) take(n int64, what string) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, problem("truncated at byte %d: %s needs %d bytes, %d left", r.off, what, n, r.left())
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}

func (r *reader) u32(what string) (uint32, error) {
	p, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (r *reader) u64(what string) (uint64, error) {
	p, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

// count reads a u64 count of items of at least minBytes each, bounded by limit and by the bytes
// left, so that a lying count is refused before anything is allocated for it.
func (r *reader) count(what string, minBytes, limit int64) (int, error) {
	at := r.off
	n, err := r.u64(what)
	if err != nil {
		return 0, err
	}
	if n > uint64(limit) {
		return 0, problem("%s %d at byte %d is over the limit of %d", what, n, at, limit)
	}
	if minBytes > 0 && n > uint64(r.left()/minBytes) {
		return 0, problem("%s %d at byte %d: the %d bytes left hold at most %d", what, n, at, r.left(), r.left()/minBytes)
	}
	return int(n), nil
}

func (r *reader) str(what string) (string, error) {
	n, err := r.count(what+" length", 1, MaxStringBytes)
	if err != nil {
		return "", err
	}
	p, err := r.take(int64(n), what)
	if err != nil {
		return "", err
	}
	return string(p), nil
}

func parse(data []byte) (*File, error) {
	r := &reader{b: data}
	m, err := r.take(4, "the magic")
	if err != nil {
		return nil, err
	}
	if string(m) != magic {
		return nil, problem("magic %q, want %q (not a GGUF file)", m, magic)
	}
	f := &File{data: data, keys: map[string]int{}, tensors: map[string]int{}, Alignment: DefaultAlignment}
	if f.Version, err = r.u32("the version"); err != nil {
		return nil, err
	}
	switch {
	case f.Version == 1:
		return nil, problem("GGUF version 1 is no longer read (llama.cpp dropped it too); convert the file again")
	case f.Version&0xffff == 0 && f.Version != 0:
		return nil, problem("version %d: a big-endian file? only little-endian files are read", f.Version)
	case f.Version != 2 && f.Version != 3:
		return nil, problem("version %d, want 2 or 3", f.Version)
	}
	// A tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
	// a key/value pair 8 (key length) + 1 (a key is not empty) + 4 (type) + 1.
	nTensors, err := r.count("tensor count", 24, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	nKV, err := r.count("key/value count", 14, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	f.KV = make([]KV, 0, nKV)
	for i := range nKV {
		key, err := r.str(fmt.Sprintf("key %d", i))
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, problem("key %d is empty", i)
		}
		if _, dup := f.keys[key]; dup {
			return nil, problem("key %q appears twice", key)
		}
		v, err := readValue(r, key)
		if err != nil {
			return nil, err
		}
		f.keys[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	if v, ok := f.Get(KeyAlignment); ok {
		a, isU32 := v.v.(uint32)
		if !isU32 {
			return nil, problem("%s is a %s, want a u32", KeyAlignment, v.typeName())
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, problem("%s %d is not a power of two", KeyAlignment, a)
		}
		f.Alignment = int64(a)
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := range nTensors {
		t, err := readTensorInfo(r, i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tensors[t.Name]; dup {
			return nil, problem("tensor %q appears twice", t.Name)
		}
		f.tensors[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = r.off
	if nTensors > 0 {
		f.DataOffset = pad(r.off, f.Alignment)
	}
	// The tensors follow each other in file order, each padded to the alignment, as llama.cpp
	// writes them and requires.
	var next int64
	for _, t := range f.Tensors {
		if t.Offset != next {
			return nil, problem("tensor %q is at data offset %d, want %d (where the tensor before it ends, padded to %d)", t.Name, t.Offset, next, f.Alignment)
		}
		if t.Bytes > int64(len(data))-f.DataOffset-t.Offset {
			return nil, problem("tensor %q (%s, %d bytes at file offset %d) runs past the end of the file (%d bytes): truncated?", t.Name, t.Type, t.Bytes, f.DataOffset+t.Offset, len(data))
		}
		next = pad(t.Offset+t.Bytes, f.Alignment)
	}
	return f, nil
}

// pad rounds n up to a multiple of align (a power of two), n and the result well below 2⁶³.
func pad(n, align int64) int64 { return (n + align - 1) &^ (align - 1) }

func readTensorInfo(r *reader, i int) (TensorInfo, error) {
	name, err := r.str(fmt.Sprintf("tensor %d's name", i))
	if err != nil {
		return TensorInfo{}, err
	}
	if len(name) > MaxNameBytes {
		return TensorInfo{}, problem("tensor %d's name is %d bytes, over the limit of %d", i, len(name), MaxNameBytes)
	}
	t := TensorInfo{Name: name}
	nDims, err := r.u32(fmt.Sprintf("tensor %q's dimension count", name))
	if err != nil {
		return TensorInfo{}, err
	}
	if nDims > MaxDims {
		return TensorInfo{}, problem("tensor %q has %d dimensions, over the limit of %d", name, nDims, MaxDims)
	}
	t.Dims = make([]int64, nDims)
	elems := uint64(1)
	overflow := false
	for j := range t.Dims {
		d, err := r.u64(fmt.Sprintf("tensor %q's dimension %d", name, j))
		if err != nil {
			return TensorInfo{}, err
		}
		if d > math.MaxInt64 {
			return TensorInfo{}, problem("tensor %q's dimension %d is negative (%d)", name, j, int64(d))
		}
		t.Dims[j] = int64(d)
		hi, lo := bits.Mul64(elems, d)
		overflow = overflow || hi != 0 || lo > math.MaxInt64
		elems = lo
	}
	if overflow {
		return TensorInfo{}, problem("tensor %q's shape %v has more than 2⁶³ elements", name, t.Dims)
	}
	ty, err := r.u32(fmt.Sprintf("tensor %q's type", name))
	if err != nil {
		return TensorInfo{}, err
	}
	t.Type = DType(ty)
	info, ok := dtypes[t.Type]
	if !ok {
		return TensorInfo{}, problem("tensor %q has ggml type %d, which ggml does not define", name, ty)
	}
	if len(t.Dims) > 0 && t.Dims[0]%info.block != 0 {
		return TensorInfo{}, problem("tensor %q (%s) has %d elements a row, not a multiple of its block of %d", name, t.Type, t.Dims[0], info.block)
	}
	if len(t.Dims) == 0 && info.block != 1 {
		return TensorInfo{}, problem("tensor %q (%s) has no dimensions but a block of %d", name, t.Type, info.block)
	}
	blocks := int64(elems) / info.block
	if blocks > (math.MaxInt64/2)/info.blockBytes {
		return TensorInfo{}, problem("tensor %q's shape %v is too large in bytes", name, t.Dims)
	}
	t.Bytes = blocks * info.blockBytes
	off, err := r.u64(fmt.Sprintf("tensor %q's offset", name))
	if err != nil {
		return TensorInfo{}, err
	}
	if off > math.MaxInt64/2 {
		return TensorInfo{}, problem("tensor %q's offset %d is past any file", name, off)
	}
	t.Offset = int64(off)
	return t, nil
}

func readValue(r *reader, key string) (Value, error) {
	ty, err := r.u32(fmt.Sprintf("the type of %q", key))
	if err != nil {
		return Value{}, err
	}
	t := ValueType(ty)
	if t != TypeArray {
		v, err := readScalar(r, key, t)
		return Value{Type: t, v: v}, err
	}
	et, err := r.u32(fmt.Sprintf("the element type of %q", key))
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	size := int64(elem.size())
	switch {
	case elem == TypeArray:
		return Value{}, problem("key %q is an array of arrays, which GGUF readers refuse", key)
	case elem == TypeString:
		size = 8
	case size == 0:
		return Value{}, problem("key %q is an array of unknown type %d", key, et)
	}
	n, err := r.count(fmt.Sprintf("the length of %q", key), size, MaxArrayElements)
	if err != nil {
		return Value{}, err
	}
	v, err := readArray(r, key, elem, n)
	return Value{Type: TypeArray, Elem: elem, v: v}, err
}

func readScalar(r *reader, key string, t ValueType) (any, error) {
	what := fmt.Sprintf("the value of %q", key)
	if t == TypeString {
		return r.str(what)
	}
	n := t.size()
	if n == 0 {
		return nil, problem("key %q has unknown type %d", key, uint32(t))
	}
	p, err := r.take(int64(n), what)
	if err != nil {
		return nil, err
	}
	return scalarAt(t, p), nil
}

func scalarAt(t ValueType, p []byte) any {
	switch t {
	case TypeUint8:
		return p[0]
	case TypeInt8:
		return int8(p[0])
	case TypeBool:
		return p[0] != 0
	case TypeUint16:
		return binary.LittleEndian.Uint16(p)
	case TypeInt16:
		return int16(binary.LittleEndian.Uint16(p))
	case TypeUint32:
		return binary.LittleEndian.Uint32(p)
	case TypeInt32:
		return int32(binary.LittleEndian.Uint32(p))
	case TypeFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(p))
	case TypeUint64:
		return binary.LittleEndian.Uint64(p)
	case TypeInt64:
		return int64(binary.LittleEndian.Uint64(p))
	case TypeFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
	}
	return nil
}

// readArray reads n elements of type elem: strings as []string, scalars as their encoded
// bytes (decoded by Value's accessors, so a long array costs no more than its bytes).
func readArray(r *reader, key string, elem ValueType, n int) (any, error) {
	if elem == TypeString {
		out := make([]string, n)
		for i := range out {
			s, err := r.str(fmt.Sprintf("element %d of %q", i, key))
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return r.take(int64(n)*int64(elem.size()), fmt.Sprintf("the %d elements of %q", n, key))
}
