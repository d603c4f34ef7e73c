package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// TestLinearBF16 checks that a bf16 Linear gives, bit for bit, what the float32 Linear built
// from the bf16-rounded weights gives, with each implementation (impls) and through NewLinearBF16: the kernels' arithmetic is the same, only the storage of
// W differs (widening bf16 to float32 is exact).
func TestLinearBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := []struct{ out, in int }{
		{1, 1}, {15, 3}, {16, 7}, {17, 320}, {33, 321}, {50, 650}, {40, 700}, {96, 64},
	}
	for _, s := range shapes {
		w := randSlice(r, s.out*s.in)
		rounded := make([]float32, len(w))
		for i, v := range w {
			rounded[i] = half.BF16ToF32(half.F32ToBF16(v))
		}
		for _, withBias := range []bool{false, true} {
			var bias []float32
			if withBias {
				bias = randSlice(r, s.out)
			}
			w16 := make([]uint16, len(w))
			for i, v := range w {
				w16[i] = half.F32ToBF16(v)
			}
			for _, im := range impls {
				ref, err := newLinear(im, rounded, bias, s.out, s.in)
				if err != nil {
					t.Fatal(err)
				}
				lin, err := newLinearBF16Bits(im, w16, bias, s.out, s.in)
				if err != nil {
					t.Fatal(err)
				}
				checkBF16(t, im.name, r, ref, lin, s.out, s.in, withBias)
			}
			ref, err := NewLinear(rounded, bias, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			lin, err := NewLinearBF16(w, bias, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			checkBF16(t, "NewLinearBF16", r, ref, lin, s.out, s.in, withBias)
		}
	}
}

// checkBF16 compares lin with ref bit for bit, on 1 to 13 rows, 1 to 3 goroutines, with and
// without the residual addition.
func checkBF16(t *testing.T, name string, r *rand.Rand, ref, lin *Linear, out, in int, withBias bool) {
	t.Helper()
	for m := 1; m <= 13; m++ {
		x := randSlice(r, m*in)
		base := randSlice(r, m*out)
		for threads := 1; threads <= 3; threads++ {
			for _, add := range []bool{false, true} {
				want := append([]float32(nil), base...)
				got := append([]float32(nil), base...)
				if add {
					ref.ForwardAdd(want, x, m, threads)
					lin.ForwardAdd(got, x, m, threads)
				} else {
					ref.Forward(want, x, m, threads)
					lin.Forward(got, x, m, threads)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: out %d in %d bias %v m %d threads %d add %v: [%d] = %g, want %g",
							name, out, in, withBias, m, threads, add, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestLinearBF16Errors(t *testing.T) {
	if _, err := NewLinearBF16(make([]float32, 5), nil, 2, 3); err == nil {
		t.Error("NewLinearBF16 accepted 5 weights for [2, 3]")
	}
	if _, err := NewLinearBF16(make([]float32, 6), make([]float32, 3), 2, 3); err == nil {
		t.Error("NewLinearBF16 accepted a bias of 3 for out 2")
	}
}

// TestNewLinearBF16Bits: a Linear built from bfloat16 bits computes, bit for bit, what
// NewLinearBF16 builds from the same values widened to float32; a wrong length is an error.
func TestNewLinearBF16Bits(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	const m, out, in = 13, 40, 330
	w16 := make([]uint16, out*in)
	wide := make([]float32, out*in)
	for i := range w16 {
		w16[i] = half.F32ToBF16(float32(r.NormFloat64()))
		wide[i] = half.BF16ToF32(w16[i])
	}
	bias, x := randSlice(r, out), randSlice(r, m*in)
	a, err := NewLinearBF16Bits(w16, bias, out, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLinearBF16(wide, bias, out, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 3} {
		got, want := make([]float32, m*out), make([]float32, m*out)
		a.Forward(got, x, m, threads)
		b.Forward(want, x, m, threads)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("threads %d: y[%d] = %g from bits, %g from float32", threads, i, got[i], want[i])
			}
		}
	}
	if _, err := NewLinearBF16Bits(w16[1:], bias, out, in); err == nil {
		t.Error("short weight accepted")
	}
}
