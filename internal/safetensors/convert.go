package safetensors

import (
	"encoding/binary"
	"math"
)

// BF16ToF32 converts a bfloat16 bit pattern to float32. The conversion is
// exact: a bfloat16 is the top half of a float32, so NaN payloads are kept.
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F16ToF32 converts an IEEE 754 binary16 bit pattern to float32. The
// conversion is exact for every input: zeros keep their sign, subnormals
// become normal float32 values, infinities stay infinite, and NaNs stay NaN
// with their payload shifted into the top of the float32 mantissa.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: value = mant * 2^-24. Normalise so that the implicit bit
	// (bit 10) is set; each shift lowers the exponent by one.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// F32ToBF16 converts a float32 to bfloat16, rounding to nearest with ties to
// even, exactly as PyTorch does: values beyond the bfloat16 range round to
// infinity, and every NaN becomes the canonical quiet NaN 0x7FC0.
func F32ToBF16(f float32) uint16 {
	if f != f {
		return 0x7fc0
	}
	u := math.Float32bits(f)
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

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
		dst = append(dst, BF16ToF32(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// decodeF16 appends the little-endian binary16 values in b to dst.
func decodeF16(dst []float32, b []byte) []float32 {
	for i := 0; i+2 <= len(b); i += 2 {
		dst = append(dst, F16ToF32(binary.LittleEndian.Uint16(b[i:])))
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
