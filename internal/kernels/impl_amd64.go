//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// avx2FMA is the Go-assembly implementation (*_amd64.s), or nil when this CPU (or OS) lacks
// AVX2 or FMA. Its functions call the assembly unconditionally: the CPU check is here, once.
var avx2FMA = func() *impl {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return nil
	}
	return &impl{
		name: "avx2+fma",
		newGEMM: func(w, bias []float32, out, in int) gemm {
			return newPackedLinear(w, bias, out, in)
		},
		newGEMMBF16: func(w []uint16, bias []float32, out, in int) gemm {
			return newPackedLinearBF16(w, bias, out, in)
		},
		attn: attnKernels{
			name:    "avx2+fma",
			scores:  scoresAsm,
			pv:      pvAsm,
			pv8:     pv8Asm,
			softmax: softmaxAsm,
		},
		exp2:         exp2AVX2,
		geluTanh:     geluTanhAVX2,
		layerNormRow: layerNormRowAVX2,
		rotaryRow:    rotaryRowAVX2,
		peak:         peakAVX2,
		peakFLOP:     192,
		stream:       streamAsm(cpu.X86.HasAVX512F),
	}
}()
