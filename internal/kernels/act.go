package kernels

import "math"

// GELUTanh applies the tanh approximation of GELU in place (PyTorch's gelu(approximate="tanh"),
// "gelu_pytorch_tanh" in Hugging Face configs): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// Each value is computed in float64 and rounded once.
func GELUTanh(x []float32, threads int) {
	const c = 0.7978845608028654 // √(2/π)
	parallelFor((len(x)+4095)/4096, threads, func(lo, hi int) {
		for i := lo * 4096; i < min(hi*4096, len(x)); i++ {
			v := float64(x[i])
			x[i] = float32(0.5 * v * (1 + math.Tanh(c*(v+0.044715*v*v*v))))
		}
	})
}

// GELUErf applies the exact GELU in place: 0.5·x·(1 + erf(x/√2)), computed in float64.
func GELUErf(x []float32, threads int) {
	parallelFor((len(x)+4095)/4096, threads, func(lo, hi int) {
		for i := lo * 4096; i < min(hi*4096, len(x)); i++ {
			v := float64(x[i])
			x[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		}
	})
}

// Add computes dst[i] += x[i] for every i (residual connections).
func Add(dst, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += x[i]
	}
}
