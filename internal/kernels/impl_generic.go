package kernels

// generic is the portable Go implementation, built everywhere: what the purego build tag, any
// other GOARCH and an amd64 CPU without AVX2 or FMA use, and what the tests hold the assembly
// to. Its functions are the Go twins of the assembly's steps (rounding for rounding where the
// kernel's documentation says so), except the GEMM, which is the whole portable gemmNT.
var generic = &impl{
	name: "generic",
	newGEMM: func(w, bias []float32, out, in int) gemm {
		return &portableGEMM{w: w, bias: bias, out: out, in: in}
	},
	newGEMMBF16: func(w []uint16, bias []float32, out, in int) gemm {
		return &portableGEMM{w16: w, bias: bias, out: out, in: in}
	},
	attn: attnKernels{
		name:    "generic",
		scores:  scoresGo,
		pv:      pvGo,
		pv8:     pv8Go,
		softmax: softmaxGo,
	},
	exp2: func(dst, src []float32) {
		src = src[:len(dst)]
		for i := range dst {
			dst[i] = exp2Go(src[i])
		}
	},
	geluTanh: func(x []float32) {
		for i, v := range x {
			x[i] = geluTanhGo(v)
		}
	},
	layerNormRow: layerNormRowGo,
	rotaryRow:    rotaryRowGo,
	peak:         peakLoopGo,
	peakFLOP:     16,
	stream:       genericStream,
}
