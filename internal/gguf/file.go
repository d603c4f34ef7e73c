package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/half"
)

// headerBytes is the fixed header: magic, version and the two counts.
const headerBytes = 4 + 4 + 8 + 8

// Open maps the GGUF file at path and parses it. Only regular files are opened (a FIFO is
// refused, not waited on); the tensor data is read from the mapping when asked for.
func Open(path string) (*File, error) {
	fd, size, err := fsutil.OpenRegular(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fd.Close()
	if size < headerBytes {
		return nil, fmt.Errorf("gguf: %s: %w: %d bytes, too short for the %d-byte header", path, ErrInvalid, size, headerBytes)
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("gguf: %s: %d bytes, too large for this platform", path, size)
	}
	data, release, err := fsutil.MapFile(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	f, err := parse(data)
	if err != nil {
		release()
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	f.Path, f.release = path, release
	return f, nil
}

// Close releases the mapping of a File from Open; slices from Bytes must not be used after.
// It is safe to call more than once.
func (f *File) Close() error {
	if f == nil || f.release == nil {
		return nil
	}
	release := f.release
	f.release, f.data = nil, nil
	return release()
}

// Tensor returns the info of the tensor called name.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensors[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// Bytes returns the stored bytes of the tensor called name (a view of the mapping).
func (f *File) Bytes(name string) ([]byte, TensorInfo, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, TensorInfo{}, fmt.Errorf("gguf: %sno tensor %q", f.where(), name)
	}
	if f.data == nil {
		return nil, t, fmt.Errorf("gguf: %sthe file is closed", f.where())
	}
	start := f.DataOffset + t.Offset
	return f.data[start : start+t.Bytes : start+t.Bytes], t, nil
}

// Readable reports whether Float32s reads tensors of type d.
func Readable(d DType) bool { return d == F32 || d == F16 || d == BF16 || d == Q8_0 }

// Float32s returns the values of the tensor called name as float32, in ggml's element order
// (row-major in TensorInfo.Shape): F32 as stored, F16 and BF16 widened exactly, Q8_0
// dequantized as ggml does (each block of 32: its f16 scale times each int8). Other types are
// refused by name.
func (f *File) Float32s(name string) ([]float32, error) {
	b, t, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	if !Readable(t.Type) {
		return nil, fmt.Errorf("gguf: %stensor %q is %s: only F32, F16, BF16 and Q8_0 are read", f.where(), name, t.Type)
	}
	out := make([]float32, t.Elements())
	switch t.Type {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = half.F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = half.BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case Q8_0:
		dequantQ8_0(out, b)
	}
	return out, nil
}

// dequantQ8_0 expands Q8_0 blocks (an f16 scale d, then 32 int8 q) into dst: d·q, as ggml's
// dequantize_row_q8_0 (the int8 converted to float32, multiplied in float32).
func dequantQ8_0(dst []float32, b []byte) {
	const qk, blockBytes = 32, 34
	for blk := 0; blk*qk < len(dst); blk++ {
		p := b[blk*blockBytes:]
		d := half.F16ToF32(binary.LittleEndian.Uint16(p))
		for j := range qk {
			dst[blk*qk+j] = float32(int8(p[2+j])) * d
		}
	}
}
