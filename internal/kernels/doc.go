// Package kernels holds the numeric kernels of the vision tower: matrix multiplication against
// pre-arranged weights, layer normalisation, activations, rotary embedding and attention over
// segments. It knows nothing of the model: every function takes plain float32 slices, row-major,
// with the shapes stated in its doc comment.
//
// Each fast kernel has a slow, obviously correct reference beside it (the functions whose names
// end in Ref: MatMulNTRef, AttentionRef, LayerNormRef, GELUTanhRef, RotaryRef), and the tests
// compare the two.
//
// # Implementations
//
// The inner loops come from one table of functions chosen once, at start (impl.go), as gonum's
// blas32.Use: "avx2+fma" on amd64 CPUs with AVX2 and FMA (checked with golang.org/x/sys/cpu)
// without the purego build tag, else "generic"; Name reports which. avx2+fma is Go assembly:
// Linear's 6×16 micro-kernel and activation packing (gemm_amd64.s, pack_amd64.s) and, for calls
// of a few rows (a decode step's one), its matrix-vector kernel over the same packed weights
// (gemv.go, gemv_amd64.s), the
// attention's score, softmax and P·V micro-kernels (attention_amd64.s), a vectorised exp2
// (exp2_amd64.h, exp2_amd64.s) behind the softmax and GELUTanh (act_amd64.s), and LayerNorm's
// rows and Rotary's (norm_amd64.s, rotary_amd64.s). generic is portable Go: gemmNT for the
// whole multiplication (a row-major GEMV for a few rows, gemv_generic.go), a Go twin of the same steps for the others. The tests run every kernel
// with every implementation the machine has.
//
// # Cancellation
//
// The long kernels, Linear's multiplication and Attention, run as many small tasks shared out
// among goroutines (runTasks). Their Context variants (Linear.ForwardContext,
// Linear.ForwardAddContext, AttentionContext) check the context before each task (a
// non-blocking receive from ctx.Done()), and attention also before each block of keys within
// one: once the context is done no further work starts, and the call returns ctx.Err() as soon
// as the running tasks have finished, with its output partly computed.
package kernels
