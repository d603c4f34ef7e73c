//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// TestPackA6 compares the assembly packing of activation micro-panels with the obvious loop, for
// lengths that are and are not multiples of its 4-step unroll; the floats around the panel in
// dst must survive.
func TestPackA6(t *testing.T) {
	if avx2FMA == nil {
		t.Skip("this CPU lacks AVX2 or FMA")
	}
	r := rand.New(rand.NewPCG(71, 72))
	for _, kc := range []int{1, 2, 3, 4, 5, 8, 13, 320} {
		for _, ld := range []int{kc, kc + 3, 1024} {
			x := randSlice(r, 5*ld+kc)
			dst := make([]float32, 6*kc+8)
			for i := range dst {
				dst[i] = -7
			}
			packA6(&dst[4], &x[0], ld, kc)
			for i, v := range dst {
				want := float32(-7)
				if p := i - 4; p >= 0 && p < 6*kc {
					want = x[(p%6)*ld+p/6]
				}
				if v != want {
					t.Fatalf("kc %d ld %d: dst[%d] = %g, want %g", kc, ld, i, v, want)
				}
			}
		}
	}
}

// TestWiden16 widens every bfloat16 bit pattern (zeros, subnormals, infinities, NaNs included)
// with the assembly and compares the bits with half.BF16ToF32's; the floats around dst must survive.
func TestWiden16(t *testing.T) {
	if avx2FMA == nil {
		t.Skip("this CPU lacks AVX2 or FMA")
	}
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	for _, n := range []int{16, 32, 48, 1 << 16} {
		dst := make([]float32, n+2)
		dst[0], dst[n+1] = -7, -7
		widen16(&dst[1], &src[len(src)-n], n)
		if dst[0] != -7 || dst[n+1] != -7 {
			t.Fatalf("n %d: wrote outside dst", n)
		}
		for i, v := range dst[1 : n+1] {
			b := src[len(src)-n+i]
			if got, want := math.Float32bits(v), math.Float32bits(half.BF16ToF32(b)); got != want {
				t.Fatalf("n %d: bf16 %#04x widened to %#08x, want %#08x", n, b, got, want)
			}
		}
	}
}
