// Package npy writes NumPy's .npy format, version 1.0 (numpy.lib.format): the magic
// "\x93NUMPY", the version bytes 1 0, the header length as a little-endian uint16, the header
// (a Python dict literal with descr, fortran_order and shape, padded with spaces and ended by
// a newline so that the data starts at a multiple of 64 bytes), then the data, C order.
package npy

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Descr is a little-endian NumPy dtype string: "<f4" (float32), "<f8" (float64), "<i8" (int64).
type Descr string

// The dtypes written.
const (
	F32 Descr = "<f4"
	F64 Descr = "<f8"
	I64 Descr = "<i8"
)

// size is the bytes of one value.
func (d Descr) size() int {
	switch d {
	case F32:
		return 4
	case F64, I64:
		return 8
	}
	return 0
}

// Append appends the .npy file of a C-order array of dtype d and the given shape, whose
// little-endian values are data, to dst. The data must hold exactly ∏shape values.
func Append(dst []byte, d Descr, shape []int, data []byte) ([]byte, error) {
	h, err := Header(d, shape, len(data))
	if err != nil {
		return dst, err
	}
	return append(append(dst, h...), data...), nil
}

// Header is the start of the .npy file of a C-order array of dtype d and the given shape,
// everything before its data; dataLen, the data's length in bytes, is checked against them.
func Header(d Descr, shape []int, dataLen int) ([]byte, error) {
	if d.size() == 0 {
		return nil, fmt.Errorf("npy: dtype %q not supported", d)
	}
	n := 1
	dims := make([]string, len(shape))
	for i, s := range shape {
		if s < 0 {
			return nil, fmt.Errorf("npy: shape %v has a negative dimension", shape)
		}
		n *= s
		dims[i] = strconv.Itoa(s)
	}
	if dataLen != n*d.size() {
		return nil, fmt.Errorf("npy: shape %v of %s needs %d bytes, have %d", shape, d, n*d.size(), dataLen)
	}
	tuple := strings.Join(dims, ", ")
	if len(dims) == 1 {
		tuple += "," // a one-element Python tuple
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", d, tuple)
	// 10 bytes before the header (magic 6, version 2, length 2) and the final newline.
	pad := (64 - (10+len(header)+1)%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	if len(header) > 0xffff {
		return nil, fmt.Errorf("npy: a header of %d bytes does not fit version 1.0", len(header))
	}
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(header)))
	return append(b, header...), nil
}
