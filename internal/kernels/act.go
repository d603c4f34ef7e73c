package kernels

import "math"

// The constants of GELUTanh in base 2: z = geluK0·x + geluK1·x³ = −2·log₂e·√(2/π)·(x + 0.044715·x³).
const (
	geluK0 = -2 * math.Log2E * 0.7978845608028654 // −2·log₂e·√(2/π)
	geluK1 = geluK0 * 0.044715
)

// GELUTanh applies the tanh approximation of GELU in place (PyTorch's gelu(approximate="tanh"),
// "gelu_pytorch_tanh" in Hugging Face configs): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
//
// It is computed as x·σ(2u) = x / (1 + 2^z), z = −2·log₂e·√(2/π)·(x + 0.044715·x³), in float32
// with the vectorised exp2 (assembly in the avx2+fma implementation): within (10 + 3.5·|z|)·2⁻²⁴ of
// the exact value, relatively (TestGELUTanh; observed ≤ 5e-7 where |z| < 8, about x > −2.5).
// This form has no cancellation, unlike 1 + tanh(u) in float32 for x ≲ −3.
// GELUTanhRef is the float64 reference.
func GELUTanh(x []float32, threads int) { geluTanh(active, x, threads) }

// geluTanh is GELUTanh with the implementation im.
func geluTanh(im *impl, x []float32, threads int) {
	parallelFor((len(x)+4095)/4096, threads, func(lo, hi int) {
		im.geluTanh(x[lo*4096 : min(hi*4096, len(x))])
	})
}

// geluTanhGo is GELUTanh on one value, the same float32 steps as the assembly.
func geluTanhGo(x float32) float32 {
	z := x * (geluK0 + geluK1*(x*x))
	return x / (1 + exp2Go(z))
}

// GELUTanhRef is the reference for GELUTanh: each value computed in float64 with math.Tanh
// in the original form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) and rounded once.
func GELUTanhRef(x []float32, threads int) {
	const c = 0.7978845608028654 // √(2/π)
	parallelFor((len(x)+4095)/4096, threads, func(lo, hi int) {
		for i := lo * 4096; i < min(hi*4096, len(x)); i++ {
			v := float64(x[i])
			x[i] = float32(0.5 * v * (1 + math.Tanh(c*(v+0.044715*v*v*v))))
		}
	})
}

// GELUErf applies the exact GELU in place: 0.5·x·(1 + erf(x/√2)), computed in float64. It only
// runs in the mergers, on N/4 rows, so it stays scalar (under 1% of an encode).
func GELUErf(x []float32, threads int) {
	parallelFor((len(x)+4095)/4096, threads, func(lo, hi int) {
		for i := lo * 4096; i < min(hi*4096, len(x)); i++ {
			v := float64(x[i])
			x[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		}
	})
}
