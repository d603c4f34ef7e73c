package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"sync"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// File is an open safetensors file.
//
// On unix systems the file is memory-mapped read-only, so opening even a
// multi-gigabyte file costs only the header parse, and Bytes returns views
// into the mapping; elsewhere the file is read into memory. A File is safe
// for concurrent use. Close releases the mapping.
type File struct {
	path   string
	header *Header
	index  map[string]int // tensor name -> position in header.Tensors

	mu      sync.RWMutex
	closed  bool
	data    []byte // the data section, a slice of whole
	release func() error
}

// Open opens and validates the safetensors file at path. The file layout is
//
//	[8 bytes]  N, little-endian uint64: header length (N <= MaxHeaderSize)
//	[N bytes]  JSON header, see ParseHeader
//	[rest]     data section, exactly covered by the tensors
//
// Errors start with "safetensors: <path>: "; format problems match
// ErrInvalid and I/O problems wrap the underlying error (for instance
// fs.ErrNotExist).
func Open(path string) (*File, error) {
	f, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return f, nil
}

func open(path string) (*File, error) {
	fd, size, err := fsutil.OpenRegular(path) // a FIFO is refused, not waited on
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer fd.Close()
	if size < 8 {
		return nil, invalidf("file is %d bytes, too short for the 8-byte header length", size)
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("file is %d bytes, too large for this platform", size)
	}
	var prefix [8]byte
	if _, err := fd.ReadAt(prefix[:], 0); err != nil {
		return nil, fmt.Errorf("reading header length: %w", unwrapPath(err))
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > MaxHeaderSize {
		return nil, invalidf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, invalidf("header length %d exceeds the %d bytes that follow the length prefix", n, size-8)
	}
	hb := make([]byte, n)
	if _, err := fd.ReadAt(hb, 8); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading header: file shrank while being opened")
		}
		return nil, fmt.Errorf("reading header: %w", unwrapPath(err))
	}
	start := 8 + int64(n)
	h, err := parseHeader(hb, size-start)
	if err != nil {
		return nil, err
	}
	whole, release, err := fsutil.MapFile(fd, int(size))
	if err != nil {
		return nil, unwrapPath(err)
	}
	f := &File{
		path:    path,
		header:  h,
		index:   make(map[string]int, len(h.Tensors)),
		data:    whole[start:],
		release: release,
	}
	for i, t := range h.Tensors {
		f.index[t.Name] = i
	}
	return f, nil
}

// unwrapPath strips an *fs.PathError, whose message would repeat the path
// that our own prefix already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Close releases the file's memory. Slices returned by Bytes must not be
// used afterwards. Calling Close more than once is safe.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	err := f.release()
	f.data, f.release = nil, nil
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", f.path, err)
	}
	return nil
}

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Header returns the parsed header. It is shared: do not modify it.
func (f *File) Header() *Header { return f.header }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.header.Tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Bytes returns the raw little-endian bytes of the named tensor. The slice
// is a view into the file's memory, valid until Close, and must not be
// modified: on unix it is a read-only mapping and writing to it crashes the
// program. The mapping also assumes that the file is not truncated while
// open.
func (f *File) Bytes(name string) ([]byte, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, _, err := f.view(name)
	return b, err
}

// view returns the bytes and description of the named tensor; f.mu must be
// held.
func (f *File) view(name string) ([]byte, TensorInfo, error) {
	if f.closed {
		return nil, TensorInfo{}, fmt.Errorf("safetensors: %s: file is closed", f.path)
	}
	i, ok := f.index[name]
	if !ok {
		return nil, TensorInfo{}, fmt.Errorf("safetensors: %s: %w", f.path, notFound(name))
	}
	t := f.header.Tensors[i]
	// Begin <= End <= len(f.data) was checked by parseHeader; the
	// three-index slice keeps callers from appending into the next tensor.
	return f.data[t.Begin:t.End:t.End], t, nil
}

// Float32 returns the named tensor's elements as a new []float32. F32, F16
// and BF16 tensors are converted exactly; any other dtype is an error.
func (f *File) Float32(name string) ([]float32, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, t, err := f.view(name)
	if err != nil {
		return nil, err
	}
	n := t.NumElements()
	switch t.DType {
	case F32:
		return decodeF32(make([]float32, 0, n), b), nil
	case BF16:
		return decodeBF16(make([]float32, 0, n), b), nil
	case F16:
		return decodeF16(make([]float32, 0, n), b), nil
	}
	return nil, fmt.Errorf("safetensors: %s: tensor %s has dtype %s; only F32, F16 and BF16 convert to float32",
		f.path, quote(name), t.DType)
}

// Int64 returns the named tensor's elements as a new []int64. I64 and I32
// (widened) tensors are accepted; any other dtype is an error.
func (f *File) Int64(name string) ([]int64, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, t, err := f.view(name)
	if err != nil {
		return nil, err
	}
	n := t.NumElements()
	switch t.DType {
	case I64:
		return decodeI64(make([]int64, 0, n), b), nil
	case I32:
		return decodeI32(make([]int64, 0, n), b), nil
	}
	return nil, fmt.Errorf("safetensors: %s: tensor %s has dtype %s; only I64 and I32 convert to int64",
		f.path, quote(name), t.DType)
}
