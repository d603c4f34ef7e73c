package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/half"
)

// Tensor is a tensor to be written: Data holds its elements in row-major
// order as little-endian bytes, exactly NumElements(Shape) * element size
// bytes long.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// F32Tensor returns an F32 tensor holding data. The shape is copied; the
// data is encoded into a new byte slice. It does not check that the shape
// matches len(data); Write does.
func F32Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: b}
}

// BF16Tensor returns a BF16 tensor holding data rounded with half.F32ToBF16 (to nearest,
// ties to even, as PyTorch rounds).
func BF16Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], half.F32ToBF16(v))
	}
	return Tensor{Name: name, DType: BF16, Shape: slices.Clone(shape), Data: b}
}

// I64Tensor returns an I64 tensor holding data.
func I64Tensor(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: b}
}

// Write writes a safetensors stream to w: the 8-byte header length, the
// JSON header, then the tensors' data, contiguous and in the given order.
//
// The header lists "__metadata__" first (omitted if metadata is empty, keys
// sorted), then the tensors in the given order, as compact JSON padded with
// spaces to a multiple of 8 bytes. For the same tensor order this is byte
// for byte what the reference implementation writes; the data section
// starts 8-byte aligned. Unlike the reference, which sorts tensors by
// alignment, Write keeps the given order, so a tensor's data is aligned to
// its element size only if the tensors before it keep it so.
//
// Write checks everything before writing anything: known dtypes,
// non-negative shapes, len(Data) equal to the size the shape implies,
// unique non-empty names other than "__metadata__", and valid UTF-8 in
// names and metadata. Such errors match ErrInvalid.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, err := encodeHeader(tensors, metadata, true)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := writeStream(w, header, tensors); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// writeStream writes the length prefix, the encoded header and the data.
func writeStream(w io.Writer, header []byte, tensors []Tensor) error {
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(header)))
	if _, err := w.Write(prefix[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// EncodeHeader returns the bytes Write writes before the tensors' data: the 8-byte little-endian
// length, then the padded JSON header. Only the tensors' names, dtypes and shapes are used
// (Data may be nil), for a caller that writes the data itself afterwards: tensor i's bytes
// go at len(header) plus the sizes of the tensors before it. The checks are Write's, except
// that of len(Data).
func EncodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	h, err := encodeHeader(tensors, metadata, false)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return append(binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(h)), uint64(len(h))), h...), nil
}

// encodeHeader validates the tensors (and, if checkData, their Data lengths) and returns the
// padded JSON header.
func encodeHeader(tensors []Tensor, metadata map[string]string, checkData bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, invalidf("metadata entry %s is not valid UTF-8", quote(k))
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		appendString(&buf, metadataKey)
		buf.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			appendString(&buf, k)
			buf.WriteByte(':')
			appendString(&buf, metadata[k])
		}
		buf.WriteByte('}')
	}
	seen := make(map[string]bool, len(tensors))
	var offset int64
	for i, t := range tensors {
		where := "tensor " + quote(t.Name)
		switch {
		case t.Name == "":
			return nil, invalidf("tensor %d has an empty name", i)
		case t.Name == metadataKey:
			return nil, invalidf("tensor name %q is reserved", metadataKey)
		case !utf8.ValidString(t.Name):
			return nil, invalidf("%s: name is not valid UTF-8", where)
		case seen[t.Name]:
			return nil, invalidf("%s: duplicate name", where)
		}
		seen[t.Name] = true
		size, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return nil, invalidf("%s: %v", where, err)
		}
		if checkData && int64(len(t.Data)) != size {
			return nil, invalidf("%s: data is %d bytes, but %s%v needs %d", where, len(t.Data), t.DType, t.Shape, size)
		}
		if len(metadata) > 0 || i > 0 {
			buf.WriteByte(',')
		}
		appendString(&buf, t.Name)
		buf.WriteString(`:{"dtype":`)
		appendString(&buf, string(t.DType))
		buf.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		end := offset + size
		fmt.Fprintf(&buf, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > MaxHeaderSize {
		return nil, invalidf("header would be %d bytes, more than the limit of %d", buf.Len(), MaxHeaderSize)
	}
	return buf.Bytes(), nil
}

// appendString appends s, which must be valid UTF-8, as a JSON string
// escaped exactly as serde_json (the reference implementation) does: only
// '"', '\\' and control characters are escaped, using the two-character
// forms \b \t \n \f \r where they exist and \u00xx otherwise.
func appendString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf.WriteString(s[start:i])
		start = i + 1
		switch c {
		case '"', '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case '\b':
			buf.WriteString(`\b`)
		case '\t':
			buf.WriteString(`\t`)
		case '\n':
			buf.WriteString(`\n`)
		case '\f':
			buf.WriteString(`\f`)
		case '\r':
			buf.WriteString(`\r`)
		default:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
		}
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// WriteFile writes tensors to path atomically, with the module's one durability policy
// (package internal/fsutil): a temporary file in the same folder, synced, renamed over path,
// the folder synced. On any error the temporary file is removed, and path is left untouched
// (absent, or with its previous contents); a folder at path is an error. The new file has
// mode 0644 minus the umask, as os.WriteFile gives.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	header, err := encodeHeader(tensors, metadata, true)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		return writeStream(w, header, tensors)
	})
}

// writeFileAtomic runs write on a buffered temporary file next to path and renames the
// result over path (fsutil.WriteFile), with errors as "safetensors: <path>: <step>: <cause>".
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := fsutil.WriteFile(path, write); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, unwrapPath(err))
	}
	return nil
}
