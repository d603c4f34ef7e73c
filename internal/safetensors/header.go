package safetensors

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted, in bytes (100 MiB).
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header key holding free-form metadata.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a safetensors file. The data of the
// tensor is the row-major (C order), little-endian byte range
// [Begin, End) of the data section, which follows the header.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int // empty for a scalar, which has one element
	Begin int64 // offset of the first byte, relative to the data section
	End   int64 // offset one past the last byte
}

// NumElements returns the number of elements: the product of Shape, 1 for
// a scalar. It returns -1 if Shape has a negative dimension or the product
// overflows int64, which never happens for a TensorInfo from a parsed
// header.
func (t TensorInfo) NumElements() int64 {
	n, ok := numElements(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// Header is the parsed, validated header of a safetensors file.
type Header struct {
	// Tensors holds one entry per tensor, sorted by Begin (ties, which only
	// empty tensors can produce, are broken by name).
	Tensors []TensorInfo
	// Metadata is the "__metadata__" entry; nil if absent or null.
	Metadata map[string]string
}

// ParseHeader parses and validates a JSON header (the bytes after the 8-byte
// length prefix) for a data section of dataSize bytes.
//
// It enforces the format specification at least as strictly as the
// reference implementation: the header is a UTF-8 JSON object starting
// with '{', optionally followed by whitespace padding; no key appears twice
// (at any level); every tensor entry has exactly the fields "dtype" (a
// known DType), "shape" (non-negative integers) and "data_offsets"
// ([begin, end] with 0 <= begin <= end <= dataSize), and no others;
// end-begin equals the element count times the element size, computed
// without overflow; and the tensors tile the data section exactly, without
// overlaps, gaps or trailing bytes. "__metadata__", if present, is an
// object whose values are strings, or null, which reads as no metadata.
//
// Errors start with "safetensors: " and match ErrInvalid.
func ParseHeader(b []byte, dataSize int64) (*Header, error) {
	h, err := parseHeader(b, dataSize)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return h, nil
}

// parseHeader is ParseHeader without the error prefix, so that callers can
// add their own (for instance the file path).
func parseHeader(b []byte, dataSize int64) (*Header, error) {
	if dataSize < 0 {
		return nil, invalidf("negative data section size %d", dataSize)
	}
	if len(b) > MaxHeaderSize {
		return nil, invalidf("header is %d bytes, more than the limit of %d", len(b), MaxHeaderSize)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, invalidf("header does not start with '{'")
	}
	if !utf8.Valid(b) {
		return nil, invalidf("header is not valid UTF-8")
	}
	h, err := newJSONParser(b, "header").parse()
	if err != nil {
		return nil, err
	}
	if err := validate(h, dataSize); err != nil {
		return nil, err
	}
	return h, nil
}

// parse reads the whole header object and checks that only whitespace
// follows it.
func (p *jsonParser) parse() (*Header, error) {
	if err := p.delim('{'); err != nil {
		return nil, err
	}
	h := &Header{}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, invalidf("header: duplicate key %s", quote(k))
		}
		seen[k] = true
		if k == metadataKey {
			if h.Metadata, err = p.metadata(); err != nil {
				return nil, within(metadataKey, err)
			}
			continue
		}
		t, err := p.tensor(k)
		if err != nil {
			return nil, within("tensor "+quote(k), err)
		}
		h.Tensors = append(h.Tensors, t)
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return h, nil
}

// metadata reads the "__metadata__" value: null or an object of strings.
func (p *jsonParser) metadata() (map[string]string, error) {
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, invalidf("expected an object of strings, found %s", describe(t))
	}
	m := map[string]string{}
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, invalidf("duplicate key %s", quote(k))
		}
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := t.(string)
		if !ok {
			return nil, invalidf("value of %s is %s, not a string", quote(k), describe(t))
		}
		m[k] = v
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	return m, nil
}

// The fields of a tensor entry, as bits for duplicate detection.
const (
	fieldDType = 1 << iota
	fieldShape
	fieldOffsets
)

// tensor reads one tensor entry. Its errors lack the tensor name, which the
// caller adds.
func (p *jsonParser) tensor(name string) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	if err := p.delim('{'); err != nil {
		return info, err
	}
	seen := 0
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return info, err
		}
		var bit int
		switch k {
		case "dtype":
			bit = fieldDType
		case "shape":
			bit = fieldShape
		case "data_offsets":
			bit = fieldOffsets
		default:
			return info, invalidf("unknown field %s", quote(k))
		}
		if seen&bit != 0 {
			return info, invalidf("duplicate key %s", quote(k))
		}
		seen |= bit
		switch bit {
		case fieldDType:
			t, err := p.token()
			if err != nil {
				return info, err
			}
			s, ok := t.(string)
			if !ok {
				return info, invalidf("dtype is %s, not a string", describe(t))
			}
			info.DType = DType(s)
			if !info.DType.Known() {
				return info, invalidf("unknown dtype %s", quote(s))
			}
		case fieldShape:
			dims, err := p.ints(-1)
			if err != nil {
				return info, within("shape", err)
			}
			info.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return info, invalidf("shape: element %d (%d) is out of range", i, d)
				}
				info.Shape[i] = int(d)
			}
		case fieldOffsets:
			offs, err := p.ints(2)
			if err != nil {
				return info, within("data_offsets", err)
			}
			info.Begin, info.End = offs[0], offs[1]
		}
	}
	if err := p.delim('}'); err != nil {
		return info, err
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{fieldDType, "dtype"}, {fieldShape, "shape"}, {fieldOffsets, "data_offsets"}} {
		if seen&f.bit == 0 {
			return info, invalidf("missing field %q", f.name)
		}
	}
	return info, nil
}

// validate checks sizes and the layout of the tensors in the data section,
// and sorts h.Tensors by offset.
func validate(h *Header, dataSize int64) error {
	for _, t := range h.Tensors {
		where := "tensor " + quote(t.Name)
		if t.Begin > t.End {
			return invalidf("%s: data_offsets [%d, %d]: begin is after end", where, t.Begin, t.End)
		}
		if t.End > dataSize {
			return invalidf("%s: data_offsets [%d, %d] exceed the data section of %d bytes", where, t.Begin, t.End, dataSize)
		}
		size, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return invalidf("%s: %v", where, err)
		}
		if got := t.End - t.Begin; got != size {
			return invalidf("%s: data_offsets [%d, %d] span %d bytes, but %s%v needs %d",
				where, t.Begin, t.End, got, t.DType, t.Shape, size)
		}
	}
	slices.SortFunc(h.Tensors, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return cmp.Compare(a.Begin, b.Begin)
		}
		if a.End != b.End {
			return cmp.Compare(a.End, b.End)
		}
		return strings.Compare(a.Name, b.Name)
	})
	// The reference implementation requires the tensors to tile the data
	// section: no overlaps (which would alias data), no gaps and no
	// trailing bytes (which would allow polyglot files).
	var pos int64
	prev := ""
	for _, t := range h.Tensors {
		switch {
		case t.Begin < pos:
			return invalidf("tensor %s (bytes [%d, %d]) overlaps tensor %s, which ends at %d",
				quote(t.Name), t.Begin, t.End, quote(prev), pos)
		case t.Begin > pos:
			return invalidf("tensor %s starts at %d, leaving bytes [%d, %d] of the data section unused",
				quote(t.Name), t.Begin, pos, t.Begin)
		}
		if t.End > t.Begin {
			prev = t.Name
		}
		pos = t.End
	}
	if pos != dataSize {
		return invalidf("tensors cover %d bytes of the %d-byte data section; the rest is unused", pos, dataSize)
	}
	return nil
}

// numElements returns the product of shape; ok is false if a dimension is
// negative or the product overflows int64. A zero dimension makes the
// product zero whatever the other dimensions are.
func numElements(shape []int) (n int64, ok bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	p := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(p, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}

// byteSize returns the number of bytes a tensor of the given dtype and
// shape occupies, rejecting unknown dtypes, overflow, and sub-byte element
// counts that do not fill whole bytes.
func byteSize(d DType, shape []int) (int64, error) {
	bitSize := d.BitSize()
	if bitSize == 0 {
		return 0, fmt.Errorf("unknown dtype %s", quote(string(d)))
	}
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
	}
	n, ok := numElements(shape)
	if !ok {
		return 0, fmt.Errorf("shape %v: element count overflows", shape)
	}
	hi, nbits := bits.Mul64(uint64(n), uint64(bitSize))
	if hi != 0 || nbits/8 > math.MaxInt64 {
		return 0, fmt.Errorf("shape %v of %s: byte size overflows", shape, d)
	}
	if nbits%8 != 0 {
		return 0, fmt.Errorf("shape %v of %s: %d elements of %d bits do not fill whole bytes", shape, d, n, bitSize)
	}
	return int64(nbits / 8), nil
}
