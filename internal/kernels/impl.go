package kernels

// impl is one implementation of the kernels' inner loops: a table of function values, one per
// kernel, as gonum's blas32.Use takes one. There are two: generic, the portable Go one, always
// built (impl_generic.go); and avx2FMA, the Go-assembly one, which exists on amd64 without the
// purego build tag when the CPU (and OS) has AVX2 and FMA (impl_amd64.go; nil otherwise).
//
// The package chooses one table once, at start (active: avx2FMA when present, else generic),
// and every exported kernel runs through it; nothing else in the package asks which CPU it is
// on. The tests run each kernel with every table this machine has (impls), so on a machine
// with AVX2 both the assembly and the portable code are tested, and on one without, the
// portable code alone; a kernel whose instructions the CPU lacks is never called.
type impl struct {
	name string
	// newGEMM arranges W [out, in] row-major and bias [out] (or nil) for this implementation's
	// multiplication; newGEMMBF16 the same for W given as bfloat16 bits. Whether W is retained
	// or copied is the implementation's (see Linear).
	newGEMM     func(w, bias []float32, out, in int) gemm
	newGEMMBF16 func(w []uint16, bias []float32, out, in int) gemm
	// attn are the attention micro-kernels (contracts in attnKernels).
	attn attnKernels
	// exp2 sets dst[i] = 2^src[i] with exp2Go's accuracy and clamping (len(src) ≥ len(dst)).
	exp2 func(dst, src []float32)
	// geluTanh applies GELUTanh's formula to x in place, on the calling goroutine.
	geluTanh func(x []float32)
	// layerNormRow is one row of LayerNorm: dst, x, w, b of one length n.
	layerNormRow func(dst, x, w, b []float32, eps float32)
	// rotaryRow rotates the heads of one row of Rotary: x holds heads·headDim values, c and s
	// headDim.
	rotaryRow func(x []float32, heads, headDim int, c, s []float32)
	// peak runs n iterations of PeakGFLOPS's register-only loop, peakFLOP floating-point
	// operations each, and returns a value derived from them (so the work is kept).
	peak     func(n int) float32
	peakFLOP float64
	// stream are MeasureBandwidth's loops.
	stream streamKernels
}

// gemm is a Linear's weights in one implementation's layout, with its multiplication.
type gemm interface {
	// forward computes dst[m, out] = x[m, in]·Wᵀ + bias, or adds that to dst if add, on up to
	// threads goroutines, as many small tasks (runTasks). When done is closed no further task
	// starts: forward then returns false, with dst partly computed.
	forward(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool
}

// impls are the implementations this machine and build have: generic, then avx2FMA if present.
var impls = func() []*impl {
	s := []*impl{generic}
	if avx2FMA != nil {
		s = append(s, avx2FMA)
	}
	return s
}()

// active is the implementation every exported kernel uses: the last (fastest) of impls.
var active = impls[len(impls)-1]

// Name names the kernel implementation this process uses, chosen once at start from the build
// and the CPU: "avx2+fma" (the Go assembly, on amd64 CPUs with AVX2 and FMA, without the purego
// build tag) or "generic" (portable Go), for `qwen3vl version` and `bench` to report.
func Name() string { return active.name }
