package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// TestDPBF16Ref: lanes worked out by hand from the SDM's pseudocode (and confirmed on an AMD
// EPYC Zen 4 by TestDPBF16Instruction, which runs the same lanes).
func TestDPBF16Ref(t *testing.T) {
	for _, tt := range []struct {
		name           string
		acc            uint32
		a0, a1, b0, b1 uint16
		want           uint32
	}{
		{"2⁻¹²⁶ − 1.5·2⁻¹⁵¹ tiny after rounding", 0x00800000, 0, 0x1a40, 0, 0x9980, 0x00000000},
		{"2⁻¹²⁶ − 2⁻¹⁵² rounds up to 2⁻¹²⁶", 0x00800000, 0, 0x1980, 0, 0x9980, 0x00800000},
		{"−2⁻¹²⁶ + 2⁻¹⁵²", 0x80800000, 0, 0x1980, 0, 0x1980, 0x80800000},
		{"subnormal acc read as 0", 0x00000001, 0x3f80, 0, 0x3f80, 0, 0x3f800000},
		{"−subnormal acc + 0·0 = +0", 0x80400000, 0, 0, 0, 0, 0x00000000},
		{"−0 + (−0) + (−0)", 0x80000000, 0x8000, 0x8000, 0, 0, 0x80000000},
		{"subnormal bf16 read as 0", 0x3f800000, 0x0001, 0x0040, 0x3f80, 0x4000, 0x3f800000},
		{"overflow", 0x7f7fffff, 0x7f7f, 0, 0x3f80, 0, 0x7f800000},
		{"∞·0 default NaN", 0x3f800000, 0x7f80, 0, 0, 0x3f80, 0xffc00000},
		{"two roundings: 2²⁴ + 1 + 1", 0x4b800000, 0x3f80, 0x3f80, 0x3f80, 0x3f80, 0x4b800000},
		{"1 + 2·3 + 0.5·0.5", 0x3f800000, 0x3f00, 0x4000, 0x3f00, 0x4040, 0x40e80000},
		{"a's NaN before b's", 0x3f800000, 0, 0x7fa1, 0, 0x7fc2, 0x7fe10000},
		{"acc's NaN, then a's", 0x7fa00007, 0x7fa3, 0x3f80, 0x3f80, 0x3f80, 0x7fe30000},
		{"b's NaN, then a's", 0x3f800000, 0x7f83, 0x3f80, 0x3f80, 0x7f84, 0x7fc30000},
	} {
		got := math.Float32bits(dpbf16Ref(math.Float32frombits(tt.acc), tt.a0, tt.a1, tt.b0, tt.b1))
		if got != tt.want {
			t.Errorf("%s: %#08x, want %#08x", tt.name, got, tt.want)
		}
	}
}

// TestRoundBF16NE: the instruction's rounding by hand, and where it differs from
// half.F32ToBF16 (subnormals, NaNs) and where it does not (everything else, sampled).
func TestRoundBF16NE(t *testing.T) {
	for _, tt := range []struct{ in, want uint32 }{
		{0x00000000, 0x0000}, {0x80000000, 0x8000},
		{0x00000001, 0x0000}, {0x807fffff, 0x8000}, // subnormals: signed zero
		{0x00800000, 0x0080}, {0x3f807fff, 0x3f80},
		{0x3f808000, 0x3f80}, {0x3f818000, 0x3f82}, // ties to even
		{0x7f7fffff, 0x7f80}, {0xff7f8000, 0xff80}, // overflow to ∞
		{0x7f800000, 0x7f80}, {0xff800000, 0xff80},
		{0x7f800001, 0x7fc0}, {0xff812345, 0xffc1}, {0x7fc00000, 0x7fc0}, {0x7fffffff, 0x7fff}, // NaNs: truncated, quieted
	} {
		if got := RoundBF16NE(math.Float32frombits(tt.in)); uint32(got) != tt.want {
			t.Errorf("RoundBF16NE(%#08x) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
	for u := uint64(0); u < 1<<32; u += 4093 {
		f := math.Float32frombits(uint32(u))
		e := uint32(u) >> 23 & 0xff
		differs := RoundBF16NE(f) != half.F32ToBF16(f)
		if special := e == 0 && uint32(u)&0x7fffff != 0 || f != f; !special && differs {
			t.Fatalf("%#08x: RoundBF16NE %#04x, half.F32ToBF16 %#04x", u, RoundBF16NE(f), half.F32ToBF16(f))
		}
	}
}

// bf16Inputs is a bfloat16 value drawn from several distributions: any bit pattern (NaNs,
// infinities, subnormals included), values of modest exponent (as activations and weights),
// and values near the subnormal boundary and the overflow threshold.
func bf16Inputs(r *rand.Rand, kind int) uint16 {
	switch kind {
	case 0:
		return uint16(r.Uint32())
	case 1: // |x| in [2⁻⁸, 2⁸)
		return uint16(r.Uint32()&0x807f) | uint16(127-8+r.IntN(16))<<7
	case 2: // exponents near the bottom: subnormal products and sums
		return uint16(r.Uint32()&0x807f) | uint16(r.IntN(70))<<7
	default: // exponents near the top: overflow
		return uint16(r.Uint32()&0x807f) | uint16(190+r.IntN(65))<<7
	}
}

// f32Input is a float32 drawn from the same kinds of distribution (as bf16Inputs).
func f32Input(r *rand.Rand, kind int) float32 {
	switch kind {
	case 0:
		return math.Float32frombits(r.Uint32())
	case 1:
		return math.Float32frombits(r.Uint32()&0x807fffff | uint32(127-8+r.IntN(16))<<23)
	case 2:
		return math.Float32frombits(r.Uint32()&0x807fffff | uint32(r.IntN(8))<<23)
	default:
		return math.Float32frombits(r.Uint32()&0x807fffff | uint32(240+r.IntN(15))<<23)
	}
}
