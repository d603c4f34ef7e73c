package kernels

import (
	"math"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// The arithmetic of the AVX-512 BF16 instructions in portable Go, as the Intel SDM's pseudocode
// defines it (Vol. 2, VDPBF16PS and VCVTNE2PS2BF16), and as the tests check it against the
// instructions wherever they run (bf16ref_amd64_test.go). Both ignore MXCSR: round to nearest
// even, input subnormals read as zero, output subnormals flushed to zero, no exceptions.

// dpbf16Ref is one float32 lane of VDPBF16PS: acc plus the products of two bfloat16 pairs,
// the odd elements first: acc' = acc + a1·b1, then acc' + a0·b0, each step one fused
// multiply-add (the product of two bfloat16 is exact in float32's precision) rounded to nearest
// even, with subnormal inputs (acc, a, b) read as zero of their sign and a result below the
// smallest normal after rounding flushed to zero of its sign.
func dpbf16Ref(acc float32, a0, a1, b0, b1 uint16) float32 {
	acc = dpbf16Step(acc, a1, b1)
	return dpbf16Step(acc, a0, b0)
}

// dpbf16Step is one of dpbf16Ref's two fused steps: acc + a·b.
//
// NaNs propagate as x86 propagates them, quieted (bit 22 set): a's first, then b's, then acc's;
// an invalid operation (∞·0, ∞−∞) gives the x86 default NaN, 0xFFC00000.
func dpbf16Step(acc float32, a, b uint16) float32 {
	fa, fb := half.BF16ToF32(a), half.BF16ToF32(b)
	switch {
	case fa != fa:
		return quietNaN(fa)
	case fb != fb:
		return quietNaN(fb)
	case acc != acc:
		return quietNaN(acc)
	}
	p := float64(daz32(fa)) * float64(daz32(fb)) // exact: 8-bit significands
	s := float64(daz32(acc)) + p
	if s != s {
		return math.Float32frombits(0xffc00000)
	}
	return ftz32(s)
}

// quietNaN sets a NaN's quiet bit, keeping its sign and payload.
func quietNaN(f float32) float32 { return math.Float32frombits(math.Float32bits(f) | 0x00400000) }

// daz32 reads a float32 subnormal as zero of its sign.
func daz32(f float32) float32 {
	if u := math.Float32bits(f); u&0x7f800000 == 0 {
		return math.Float32frombits(u & 0x80000000)
	}
	return f
}

// ftz32 rounds s to float32, to nearest even, flushing a result that is below the smallest
// normal (2⁻¹²⁶) after rounding to an unbounded exponent to zero of its sign.
//
// s is the float64 sum of a float32 and the exact product of two bfloat16: rounding it to
// float64 first and then to float32 gives the correctly rounded float32 sum (float64 has more
// than twice float32's precision plus two bits, which makes the double rounding of a sum of
// two such numbers innocuous).
func ftz32(s float64) float32 {
	const minNormal = 0x1p-126
	if a := math.Abs(s); a >= minNormal || a == 0 {
		return float32(s)
	}
	// Tiny: round to 24 bits as if the exponent were unbounded (scaled into float32's normal
	// range); only a value that rounds up to 2⁻¹²⁶ survives.
	if r := float32(s * 0x1p64); math.Abs(float64(r)) >= minNormal*0x1p64 {
		return float32(math.Copysign(minNormal, s))
	}
	return float32(math.Copysign(0, s))
}

// RoundBF16NE converts a float32 to bfloat16 as VCVTNE2PS2BF16 and VCVTNEPS2BF16 do: normal
// values to nearest, ties to even (as half.F32ToBF16), but subnormals become zero of their
// sign (half.F32ToBF16 rounds them to bfloat16 subnormals) and a NaN keeps its sign and top
// payload bits, with the quiet bit set (half.F32ToBF16 returns the canonical 0x7FC0).
func RoundBF16NE(f float32) uint16 {
	u := math.Float32bits(f)
	switch {
	case u&0x7f800000 == 0: // zero or subnormal
		return uint16(u>>16) & 0x8000
	case u&0x7fffffff > 0x7f800000: // NaN
		return uint16(u>>16) | 0x0040
	}
	return half.F32ToBF16(f)
}
