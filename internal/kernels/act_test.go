package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// geluInputs sweeps [−12, 12] in steps of 2⁻¹⁰, adds random values of several scales, the ends
// of the range where 2^z clamps, and a ragged length (not a multiple of 8).
func geluInputs() []float32 {
	r := rand.New(rand.NewPCG(31, 32))
	var xs []float32
	for x := -12.0; x <= 12; x += 1.0 / 1024 {
		xs = append(xs, float32(x))
	}
	for range 100000 {
		xs = append(xs, float32(r.NormFloat64()), float32(4*r.NormFloat64()), float32(1e-3*r.NormFloat64()))
	}
	return append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 30, -30, 100, -100, 3)
}

// TestGELUTanh compares GELUTanh (with every implementation of this machine: impls) with the
// float64 reference GELUTanhRef and with the exact value, within the bound derived in act.go:
// z = x·(K0 + K1·x²) is computed with ≤ 3 roundings and rounded constants, so its relative error
// is ≤ 5u (u = 2⁻²⁴) and 2^z's ≤ 4u (exp2, 2 ulp) + 5u·|z|·ln 2; 1 + 2^z and the division add
// ≤ 2u. So |GELUTanh − exact| ≤ (10 + 3.5·|z|)·u·|exact|, plus 2⁻¹²⁶·|x| where 2^z flushes or
// saturates. (The bound is loose; the observed errors are logged.)
func TestGELUTanh(t *testing.T) {
	xs := geluInputs()
	ref := append([]float32(nil), xs...)
	GELUTanhRef(ref, 2)
	type variant struct {
		name string
		f    func([]float32)
	}
	variants := []variant{{"GELUTanh", func(x []float32) { GELUTanh(x, 3) }}}
	for _, im := range impls {
		variants = append(variants,
			variant{im.name, im.geluTanh},
			variant{im.name + "/threads=3", func(x []float32) { geluTanh(im, x, 3) }})
	}
	for _, impl := range variants {
		got := append([]float32(nil), xs...)
		impl.f(got)
		worstRel, worstRel8, worstAbs := 0.0, 0.0, 0.0
		bad := 0
		for i, x := range xs {
			v := float64(x)
			// 0.5·x·(1 + tanh(u)) = x/(1 + e^{−2u}), which float64 evaluates without
			// cancellation (1 + tanh(u) loses everything below 1e-16 for x ≲ −9).
			exact := v / (1 + math.Exp(-2*0.7978845608028654*(v+0.044715*v*v*v)))
			z := geluK0 * v * (1 + 0.044715*v*v)
			bound := (10+3.5*math.Abs(z))*u32*math.Abs(exact) + 0x1p-126*math.Abs(v)
			d := math.Abs(float64(got[i]) - exact)
			if !(d <= bound) {
				if bad++; bad <= 5 {
					t.Errorf("%s: gelu(%g) = %g, exact %g (ref %g): |diff| %.3g > %.3g", impl.name, x, got[i], exact, ref[i], d, bound)
				}
			}
			if exact != 0 && math.Abs(exact) > 1e-30 {
				worstRel = max(worstRel, d/math.Abs(exact))
				if math.Abs(z) < 8 {
					worstRel8 = max(worstRel8, d/math.Abs(exact))
				}
			}
			worstAbs = max(worstAbs, math.Abs(float64(got[i])-float64(ref[i])))
		}
		t.Logf("%s: max relative error %.3g (%.3g where |z| < 8), max |Δ| against GELUTanhRef %.3g", impl.name, worstRel, worstRel8, worstAbs)
		if worstRel8 > 1e-6 {
			t.Errorf("%s: relative error %.3g where |z| < 8, documented as ≤ 5e-7", impl.name, worstRel8)
		}
	}
	// NaN stays NaN.
	for _, impl := range variants {
		x := make([]float32, 9)
		x[3], x[8] = float32(math.NaN()), float32(math.NaN())
		impl.f(x)
		if !math.IsNaN(float64(x[3])) || !math.IsNaN(float64(x[8])) || x[0] != 0 {
			t.Errorf("%s: NaN: %v", impl.name, x)
		}
	}
}

// BenchmarkGELUTanh reports elements per second of GELUTanh and GELUTanhRef on the 4B MLP's
// activations (432 × 4096), by wall time and per CPU-second (see BenchmarkLinear).
func BenchmarkGELUTanh(b *testing.B) {
	r := rand.New(rand.NewPCG(33, 34))
	x := randSlice(r, 432*4096)
	y := make([]float32, len(x))
	for _, f := range []struct {
		name string
		f    func([]float32, int)
	}{{"fast", GELUTanh}, {"ref", GELUTanhRef}} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", f.name, threads), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					copy(y, x)
					f.f(y, threads)
				}
				reportRate(b, float64(len(x))*float64(b.N), threads, cpu0, "Gelem/s", 0)
			})
		}
	}
}
