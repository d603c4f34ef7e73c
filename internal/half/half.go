// Package half converts between float32 and the two 16-bit floating-point formats that
// checkpoints store: bfloat16 (the top half of a float32: sign, 8 exponent bits, 7 mantissa
// bits) and IEEE 754 binary16 (sign, 5 exponent bits, 10 mantissa bits). Values are passed
// as their bit patterns (uint16). These are the module's only such conversions: the
// safetensors reader and writer and the kernels' bf16 weights all call them.
package half

import "math"

// BF16ToF32 converts a bfloat16 bit pattern to float32. The conversion is exact: a bfloat16
// is the top half of a float32, so NaN payloads are kept.
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F32ToBF16 converts a float32 to bfloat16, rounding to nearest with ties to even, exactly as
// PyTorch does: values beyond the bfloat16 range round to infinity, subnormals round to
// bfloat16 subnormals (or zero), and every NaN becomes the canonical quiet NaN 0x7FC0.
func F32ToBF16(f float32) uint16 {
	if f != f {
		return 0x7fc0
	}
	u := math.Float32bits(f)
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// F32sToBF16 converts each value of f by F32ToBF16 into a new slice.
func F32sToBF16(f []float32) []uint16 {
	b := make([]uint16, len(f))
	for i, v := range f {
		b[i] = F32ToBF16(v)
	}
	return b
}

// F16ToF32 converts an IEEE 754 binary16 bit pattern to float32. The conversion is exact for
// every input: zeros keep their sign, subnormals become normal float32 values, infinities
// stay infinite, and NaNs stay NaN with their payload shifted into the top of the float32
// mantissa.
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
	// Subnormal: value = mant * 2^-24. Normalise so that the implicit bit (bit 10) is set;
	// each shift lowers the exponent by one.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}
