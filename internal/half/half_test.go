package half

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestBF16ToF32(t *testing.T) {
	tests := []struct {
		in   uint16
		want uint32 // float32 bits
	}{
		{0x0000, 0x00000000}, // +0
		{0x8000, 0x80000000}, // -0
		{0x3f80, 0x3f800000}, // 1
		{0xc000, 0xc0000000}, // -2
		{0x0001, 0x00010000}, // smallest subnormal
		{0x7f7f, 0x7f7f0000}, // largest finite
		{0x7f80, 0x7f800000}, // +Inf
		{0xff80, 0xff800000}, // -Inf
		{0x7fc0, 0x7fc00000}, // quiet NaN
		{0x7f81, 0x7f810000}, // signalling NaN, payload kept
	}
	for _, tt := range tests {
		if got := math.Float32bits(BF16ToF32(tt.in)); got != tt.want {
			t.Errorf("BF16ToF32(%#04x) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
}

func TestF16ToF32(t *testing.T) {
	tests := []struct {
		in   uint16
		want uint32 // float32 bits
	}{
		{0x0000, 0x00000000},                       // +0
		{0x8000, 0x80000000},                       // -0
		{0x3c00, 0x3f800000},                       // 1
		{0xc000, 0xc0000000},                       // -2
		{0x3555, math.Float32bits(0.333251953125)}, // ~1/3
		{0x7bff, math.Float32bits(65504)},          // largest finite
		{0x0400, math.Float32bits(0x1p-14)},        // smallest normal
		{0x0001, math.Float32bits(0x1p-24)},        // smallest subnormal
		{0x8001, math.Float32bits(-0x1p-24)},       // negative subnormal
		{0x0200, math.Float32bits(0x1p-15)},        // subnormal, one shift
		{0x03ff, math.Float32bits(1023 * 0x1p-24)}, // largest subnormal
		{0x7c00, 0x7f800000},                       // +Inf
		{0xfc00, 0xff800000},                       // -Inf
		{0x7e00, 0x7fc00000},                       // quiet NaN
		{0x7c01, 0x7f802000},                       // signalling NaN, payload kept
		{0xfe01, 0xffc02000},                       // negative NaN with payload
	}
	for _, tt := range tests {
		if got := math.Float32bits(F16ToF32(tt.in)); got != tt.want {
			t.Errorf("F16ToF32(%#04x) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
}

// TestF16ToF32Exhaustive checks every half against an independent
// computation of its value.
func TestF16ToF32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp := int(h>>10) & 0x1f
		mant := int(h & 0x3ff)
		got := F16ToF32(h)
		switch {
		case exp == 0x1f && mant != 0:
			if !math.IsNaN(float64(got)) {
				t.Fatalf("F16ToF32(%#04x) = %v, want NaN", h, got)
			}
			continue
		case exp == 0x1f:
			if want := float32(math.Inf(int(sign))); got != want {
				t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, got, want)
			}
			continue
		}
		var want float64
		if exp == 0 {
			want = sign * math.Ldexp(float64(mant), -24)
		} else {
			want = sign * math.Ldexp(float64(1024+mant), exp-25)
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("F16ToF32(%#04x) = %v (%#08x), want %v", h, got, math.Float32bits(got), want)
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	tests := []struct {
		name string
		in   uint32 // float32 bits
		want uint16
	}{
		{"one", 0x3f800000, 0x3f80},
		{"-0", 0x80000000, 0x8000},
		{"below half", 0x3f807fff, 0x3f80},
		{"above half", 0x3f808001, 0x3f81},
		{"tie to even (down)", 0x3f808000, 0x3f80},
		{"tie to even (up)", 0x3f818000, 0x3f82},
		{"negative tie to even", 0xbf818000, 0xbf82},
		{"subnormal tie down", 0x00008000, 0x0000},
		{"subnormal tie up", 0x00018000, 0x0002},
		{"carry into exponent", 0x3fffffff, 0x4000},
		{"largest finite rounds to Inf", 0x7f7fffff, 0x7f80},
		{"stays finite", 0x7f7f7fff, 0x7f7f},
		{"+Inf", 0x7f800000, 0x7f80},
		{"-Inf", 0xff800000, 0xff80},
		{"quiet NaN", 0x7fc00000, 0x7fc0},
		{"negative NaN", 0xffc00001, 0x7fc0},
		{"NaN that would round to Inf", 0x7f800001, 0x7fc0},
		{"NaN with high payload", 0x7fffffff, 0x7fc0},
	}
	for _, tt := range tests {
		if got := F32ToBF16(math.Float32frombits(tt.in)); got != tt.want {
			t.Errorf("%s: F32ToBF16(%#08x) = %#04x, want %#04x", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestBF16RoundTrip checks that every non-NaN bfloat16 survives the trip
// through float32.
func TestBF16RoundTrip(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		b := uint16(i)
		f := BF16ToF32(b)
		if f != f {
			continue
		}
		if got := F32ToBF16(f); got != b {
			t.Fatalf("F32ToBF16(BF16ToF32(%#04x)) = %#04x", b, got)
		}
	}
}

// TestBF16ToF32Exhaustive checks every bfloat16 against an independent computation of its
// value from its fields.
func TestBF16ToF32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		b := uint16(i)
		sign := 1.0
		if b&0x8000 != 0 {
			sign = -1
		}
		exp := int(b>>7) & 0xff
		mant := int(b & 0x7f)
		got := BF16ToF32(b)
		switch {
		case exp == 0xff && mant != 0:
			if !math.IsNaN(float64(got)) || math.Float32bits(got)>>16 != uint32(b) {
				t.Fatalf("BF16ToF32(%#04x) = %#08x, want a NaN with the same top half", b, math.Float32bits(got))
			}
			continue
		case exp == 0xff:
			if want := float32(math.Inf(int(sign))); got != want {
				t.Fatalf("BF16ToF32(%#04x) = %v, want %v", b, got, want)
			}
			continue
		}
		var want float64
		if exp == 0 {
			want = sign * math.Ldexp(float64(mant), -133)
		} else {
			want = sign * math.Ldexp(float64(128+mant), exp-134)
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("BF16ToF32(%#04x) = %v (%#08x), want %v", b, got, math.Float32bits(got), want)
		}
	}
}

// refF32ToBF16 rounds a finite or infinite float32 to bfloat16 by arithmetic rather than bit
// manipulation: normal values with math/big at 8 significant bits (ties to even), subnormal
// ones to a multiple of 2^-133 (the bfloat16 subnormal step), overflow to infinity.
func refF32ToBF16(f float32) uint16 {
	x := float64(f)
	var r float64
	if math.Abs(x) < 0x1p-126 {
		r = math.Ldexp(math.RoundToEven(math.Ldexp(x, 133)), -133)
	} else {
		r, _ = new(big.Float).SetMode(big.ToNearestEven).SetPrec(8).SetFloat64(x).Float64()
	}
	if math.Abs(r) > math.Float64frombits(0x47efe00000000000) { // beyond 0x7f7f, the largest finite bfloat16
		r = math.Inf(int(math.Copysign(1, x)))
	}
	if r == 0 {
		return uint16(math.Float32bits(f) >> 16 & 0x8000)
	}
	return uint16(math.Float32bits(float32(r)) >> 16)
}

// TestF32ToBF16MatchesArithmetic compares F32ToBF16 with refF32ToBF16 on every float32 that
// is a bfloat16, every midpoint between two neighbouring bfloat16 values and the floats
// around it, and random floats.
func TestF32ToBF16MatchesArithmetic(t *testing.T) {
	check := func(u uint32) {
		f := math.Float32frombits(u)
		if f != f {
			return
		}
		if got, want := F32ToBF16(f), refF32ToBF16(f); got != want {
			t.Fatalf("F32ToBF16(%#08x) = %#04x, want %#04x", u, got, want)
		}
	}
	for i := 0; i < 1<<16; i++ {
		u := uint32(i) << 16
		for _, d := range []uint32{0, 1, 0x7fff, 0x8000, 0x8001, 0xffff} {
			check(u | d)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		check(r.Uint32())
	}
}
