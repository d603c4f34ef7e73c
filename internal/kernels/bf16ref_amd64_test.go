//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func needBF16(t *testing.T) {
	t.Helper()
	if !BF16().AVX512BF16 {
		t.Skip("this CPU lacks AVX512_BF16 (with AVX-512 F/BW/VL and OS ZMM state): the bf16 instructions cannot be run; the reference tests still run")
	}
}

// sameF32 is bit equality, any NaN matching any NaN when anyNaN.
func sameF32(x, y float32, anyNaN bool) bool {
	if anyNaN && x != x && y != y {
		return true
	}
	return math.Float32bits(x) == math.Float32bits(y)
}

// dpEdges are hand-picked lanes: {acc bits, a0, a1, b0, b1}.
var dpEdges = [][5]uint32{
	{0x00800000, 0, 0x1a40, 0, 0x9980},           // 2⁻¹²⁶ − 1.5·2⁻¹⁵¹: tiny after rounding to 24 bits, flushed to +0
	{0x00800000, 0, 0x1980, 0, 0x9980},           // 2⁻¹²⁶ − 2⁻¹⁵²: rounds up to 2⁻¹²⁶, kept (tininess after rounding)
	{0x80800000, 0, 0x1980, 0, 0x1980},           // −2⁻¹²⁶ + 2⁻¹⁵²: the same, negative
	{0x00000001, 0x3f80, 0, 0x3f80, 0},           // subnormal accumulator read as zero
	{0x80400000, 0, 0, 0, 0},                     // −subnormal accumulator + 0·0
	{0x80000000, 0, 0, 0, 0},                     // −0 + (+0) + (+0)
	{0x80000000, 0x8000, 0x8000, 0, 0},           // −0 + (−0) + (−0)
	{0x3f800000, 0x0001, 0x0040, 0x3f80, 0x4000}, // subnormal bf16 inputs read as zero
	{0x7f7fffff, 0x7f7f, 0, 0x3f80, 0},           // overflow to +Inf
	{0x3f800000, 0x7f80, 0x0000, 0x0000, 0x3f80}, // ∞·0: the default NaN
	{0x7f800000, 0xff80, 0x0000, 0x3f80, 0x3f80}, // ∞ − ∞
	{0x4b800000, 0x3f80, 0x3f80, 0x3f80, 0x3f80}, // 2²⁴ + 1 + 1
	{0x4b800000, 0x3f80, 0x3f00, 0x3f80, 0x3f80}, // 2²⁴ + 0.5 + 1: odd pair first
	{0x4b800000, 0x3f00, 0x3f80, 0x3f80, 0x3f80}, // 2²⁴ + 1 + 0.5
	{0x3f800000, 0x0000, 0x7fa1, 0x0000, 0x7fc2}, // NaNs: a's (quieted) before b's
	{0x7fa00007, 0x7fa3, 0x3f80, 0x3f80, 0x3f80}, // acc's NaN, then a's in the second step
	{0x3f800000, 0x7f83, 0xffc5, 0x7f86, 0x7f84},
}

// TestDPBF16Instruction: VDPBF16PS gives the reference's bits on every lane: random lanes of
// every kind, then the edges.
func TestDPBF16Instruction(t *testing.T) {
	needBF16(t)
	r := rand.New(rand.NewPCG(19, 1))
	var acc, want [16]float32
	var a, b [32]uint16
	bad := 0
	check := func() {
		in := acc
		dpbf16Probe(&acc, &a, &b)
		for i := range 16 {
			want[i] = dpbf16Ref(in[i], a[2*i], a[2*i+1], b[2*i], b[2*i+1])
			if !sameF32(acc[i], want[i], false) {
				if bad++; bad <= 20 {
					t.Errorf("acc %#08x a (%#04x, %#04x) b (%#04x, %#04x): instruction %#08x (%g), reference %#08x (%g)",
						math.Float32bits(in[i]), a[2*i], a[2*i+1], b[2*i], b[2*i+1], math.Float32bits(acc[i]), acc[i], math.Float32bits(want[i]), want[i])
				}
			}
		}
	}
	const rounds = 200000
	for n := range rounds {
		kind := n % 4
		for i := range 16 {
			acc[i] = f32Input(r, (kind+i)%4)
			if n%3 == 0 {
				acc[i] = 0
			}
		}
		for i := range a {
			a[i], b[i] = bf16Inputs(r, kind), bf16Inputs(r, (kind+i)%4)
		}
		check()
	}
	for k := 0; k < len(dpEdges); k += 16 {
		for i := range 16 {
			e := dpEdges[(k+i)%len(dpEdges)]
			acc[i] = math.Float32frombits(e[0])
			a[2*i], a[2*i+1], b[2*i], b[2*i+1] = uint16(e[1]), uint16(e[2]), uint16(e[3]), uint16(e[4])
		}
		check()
	}
	t.Logf("%d lanes, %d differ", rounds*16+len(dpEdges), bad)
}

// TestCVTNE2Instruction: VCVTNE2PS2BF16 gives RoundBF16NE's bits, for random float32 of every
// kind, ties and the special values.
func TestCVTNE2Instruction(t *testing.T) {
	needBF16(t)
	r := rand.New(rand.NewPCG(19, 2))
	var lo, hi [16]float32
	var got [32]uint16
	bad := 0
	for n := range 100000 {
		for i := range 16 {
			lo[i], hi[i] = f32Input(r, (n+i)%4), f32Input(r, (n+i+1)%4)
			if n%5 == 0 { // ties: the low half exactly 0x8000
				lo[i] = math.Float32frombits(math.Float32bits(lo[i])&0xffff0000 | 0x8000)
			}
		}
		if n == 0 {
			copy(lo[:], []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
				math.Float32frombits(0x7f800001), math.Float32frombits(0xff812345), math.Float32frombits(0x7fc00000),
				math.Float32frombits(0x00000001), math.Float32frombits(0x807fffff), math.Float32frombits(0x7f7fffff),
				math.Float32frombits(0x00800000), math.Float32frombits(0x007fffff), math.Float32frombits(0x3f808000),
				math.Float32frombits(0x3f818000), math.Float32frombits(0xff7f8000), math.Float32frombits(0x7fffffff)})
		}
		cvtne2Probe(&got, &lo, &hi)
		for i := range 32 {
			x := lo[i%16]
			if i >= 16 {
				x = hi[i-16]
			}
			if want := RoundBF16NE(x); got[i] != want {
				if bad++; bad <= 20 {
					t.Errorf("%#08x: instruction %#04x, RoundBF16NE %#04x", math.Float32bits(x), got[i], want)
				}
			}
		}
	}
}
