package kernels

import "math"

// SiLUMul is the gated MLP's activation (SwiGLU): gate[i] = SiLU(gate[i]) · up[i], in place in
// gate, with SiLU(x) = x / (1 + e^−x) computed in float64 and rounded to float32 before the
// product (rounded again), as PyTorch evaluates act_fn(gate_proj(x)) * up_proj(x) in float32.
// len(up) must be at least len(gate). SiLUMulRef is the value-by-value reference.
func SiLUMul(gate, up []float32, threads int) {
	if len(up) < len(gate) {
		panic("kernels: SiLUMul: up shorter than gate")
	}
	parallelFor((len(gate)+4095)/4096, threads, func(lo, hi int) {
		for i := lo * 4096; i < min(hi*4096, len(gate)); i++ {
			x := float64(gate[i])
			gate[i] = float32(x/(1+math.Exp(-x))) * up[i]
		}
	})
}

// SiLUMulRef is the reference for SiLUMul: SiLU as x·σ(x) with σ from math.Exp in float64, one
// value at a time on one goroutine (threads is ignored).
func SiLUMulRef(gate, up []float32, threads int) {
	if len(up) < len(gate) {
		panic("kernels: SiLUMulRef: up shorter than gate")
	}
	for i, g := range gate {
		x := float64(g)
		sigma := 1 / (1 + math.Exp(-x))
		gate[i] = float32(x*sigma) * up[i]
	}
}
