package safetensors

import (
	"encoding/binary"
	"math"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// decodeF32 appends the little-endian float32 values in b to dst.
func decodeF32(dst []float32, b []byte) []float32 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst
}

// decodeBF16 appends the little-endian bfloat16 values in b to dst.
func decodeBF16(dst []float32, b []byte) []float32 {
	for i := 0; i+2 <= len(b); i += 2 {
		dst = append(dst, half.BF16ToF32(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// decodeF16 appends the little-endian binary16 values in b to dst.
func decodeF16(dst []float32, b []byte) []float32 {
	for i := 0; i+2 <= len(b); i += 2 {
		dst = append(dst, half.F16ToF32(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// decodeI64 appends the little-endian int64 values in b to dst.
func decodeI64(dst []int64, b []byte) []int64 {
	for i := 0; i+8 <= len(b); i += 8 {
		dst = append(dst, int64(binary.LittleEndian.Uint64(b[i:])))
	}
	return dst
}

// decodeI32 appends the little-endian int32 values in b, widened, to dst.
func decodeI32(dst []int64, b []byte) []int64 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, int64(int32(binary.LittleEndian.Uint32(b[i:]))))
	}
	return dst
}
