package safetensors

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
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
// It enforces the format as the reference implementation does: the header
// is a UTF-8 JSON object starting with '{', optionally followed by
// whitespace padding; no key appears twice (at any level); every tensor
// entry has exactly the fields "dtype" (a known DType), "shape"
// (non-negative integers) and "data_offsets" ([begin, end] with
// 0 <= begin <= end <= dataSize); end-begin equals the element count times
// the element size, computed without overflow; and the tensors tile the data
// section exactly, without overlaps or gaps and with no trailing bytes.
// "__metadata__", if present, is an object whose values are strings (or
// null, which reads as no metadata).
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

// jsonParser reads JSON with a streaming decoder so that
// duplicate keys, which encoding/json would silently merge, are detected.
type jsonParser struct {
	dec  *json.Decoder
	what string // "header" or "index", for error messages
}

// newJSONParser returns a parser of b that keeps numbers as json.Number.
func newJSONParser(b []byte, what string) *jsonParser {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(b)), what: what}
	p.dec.UseNumber()
	return p
}

// token returns the next JSON token, turning syntax errors and premature
// ends into format errors.
func (p *jsonParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalidf("%s is not valid JSON: unexpected end", p.what)
		}
		return nil, invalidf("%s is not valid JSON: %v", p.what, err)
	}
	return t, nil
}

// delim consumes the next token, which must be the delimiter d; what names
// the value in the error otherwise.
func (p *jsonParser) delim(d json.Delim, what string) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return invalidf("%s: expected %q, found %s", what, string(d), describe(t))
	}
	return nil
}

// key consumes an object key and rejects it if seen already.
func (p *jsonParser) key(seen map[string]bool, where string) (string, error) {
	t, err := p.token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok { // unreachable with a well-behaved decoder; keep it safe
		return "", invalidf("%s: expected a key, found %s", where, describe(t))
	}
	if seen[k] {
		return "", invalidf("%s: duplicate key %s", where, quote(k))
	}
	seen[k] = true
	return k, nil
}

// parse reads the whole header object and checks that only whitespace
// follows it.
func (p *jsonParser) parse() (*Header, error) {
	if err := p.delim('{', "header"); err != nil {
		return nil, err
	}
	h := &Header{}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key(seen, "header")
		if err != nil {
			return nil, err
		}
		if k == metadataKey {
			if h.Metadata, err = p.metadata(); err != nil {
				return nil, err
			}
			continue
		}
		t, err := p.tensor(k)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if err := p.delim('}', "header"); err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return h, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (p *jsonParser) end() error {
	t, err := p.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return invalidf("%s is not valid JSON after the top-level object: %v", p.what, err)
	}
	return invalidf("%s has data after the top-level object: %s", p.what, describe(t))
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
		return nil, invalidf("%s is %s, not an object of strings", metadataKey, describe(t))
	}
	m := map[string]string{}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key(seen, metadataKey)
		if err != nil {
			return nil, err
		}
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := t.(string)
		if !ok {
			return nil, invalidf("%s: value of %s is %s, not a string", metadataKey, quote(k), describe(t))
		}
		m[k] = v
	}
	if err := p.delim('}', metadataKey); err != nil {
		return nil, err
	}
	return m, nil
}

// tensor reads one tensor entry.
func (p *jsonParser) tensor(name string) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	where := "tensor " + quote(name)
	if err := p.delim('{', where); err != nil {
		return info, err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key(seen, where)
		if err != nil {
			return info, err
		}
		switch k {
		case "dtype":
			t, err := p.token()
			if err != nil {
				return info, err
			}
			s, ok := t.(string)
			if !ok {
				return info, invalidf("%s: dtype is %s, not a string", where, describe(t))
			}
			info.DType = DType(s)
			if !info.DType.Known() {
				return info, invalidf("%s: unknown dtype %s", where, quote(s))
			}
		case "shape":
			dims, err := p.ints(where+": shape", -1)
			if err != nil {
				return info, err
			}
			info.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return info, invalidf("%s: shape dimension %d too large", where, d)
				}
				info.Shape[i] = int(d)
			}
		case "data_offsets":
			offs, err := p.ints(where+": data_offsets", 2)
			if err != nil {
				return info, err
			}
			info.Begin, info.End = offs[0], offs[1]
		default:
			return info, invalidf("%s: unknown field %s", where, quote(k))
		}
	}
	if err := p.delim('}', where); err != nil {
		return info, err
	}
	for _, f := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[f] {
			return info, invalidf("%s: missing field %q", where, f)
		}
	}
	return info, nil
}

// ints reads an array of non-negative integers; if n >= 0 the array must
// have exactly n elements.
func (p *jsonParser) ints(where string, n int) ([]int64, error) {
	if err := p.delim('[', where); err != nil {
		return nil, err
	}
	var out []int64
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		num, ok := t.(json.Number)
		if !ok {
			return nil, invalidf("%s: element %d is %s, not an integer", where, len(out), describe(t))
		}
		s := string(num)
		if strings.HasPrefix(s, "-") {
			return nil, invalidf("%s: element %d is negative (%s)", where, len(out), s)
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, invalidf("%s: element %d (%s) is out of range", where, len(out), s)
			}
			return nil, invalidf("%s: element %d (%s) is not an integer", where, len(out), s)
		}
		out = append(out, v)
	}
	if err := p.delim(']', where); err != nil {
		return nil, err
	}
	if n >= 0 && len(out) != n {
		return nil, invalidf("%s: has %d elements, want %d", where, len(out), n)
	}
	return out, nil
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
	n, ok := numElements(shape)
	if !ok {
		return 0, fmt.Errorf("shape %v is negative or its element count overflows", shape)
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

// quote quotes s for an error message, shortening very long strings.
func quote(s string) string {
	const limit = 200
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}

// describe names the kind of a JSON token for an error message.
func describe(t json.Token) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + string(v)
	case string:
		return "the string " + quote(v)
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(string(v))
	}
	return fmt.Sprintf("%v", t)
}
