//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether this CPU (and OS) runs the AVX2/FMA kernels. Checked once, at start.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// fastPath is the CPU-specific state of a Linear: packed weights, or nil for the portable path.
type fastPath = *packedLinear

// newFastPath packs the weights for the AVX2/FMA kernel, or returns nil when this CPU lacks
// AVX2 or FMA (then Linear keeps W as given and uses the portable gemmNT).
func newFastPath(w, bias []float32, out, in int) fastPath {
	if !hasAVX2FMA {
		return nil
	}
	return newPackedLinear(w, bias, out, in)
}

// newFastPathBF16 packs bfloat16 weights for the AVX2/FMA kernel (widened per micro-panel at
// run time), or returns nil when this CPU lacks AVX2 or FMA.
func newFastPathBF16(w []uint16, bias []float32, out, in int) fastPath {
	if !hasAVX2FMA {
		return nil
	}
	return newPackedLinearBF16(w, bias, out, in)
}
