//go:build !amd64 || purego

package kernels

// This build has no assembly: Attention and the activations use the Go kernels.

var (
	asmAttnKernels  *attnKernels
	fastAttnKernels = goAttnKernels
)

// exp2Fast sets dst[i] = 2^src[i] (see exp2Go).
func exp2Fast(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = exp2Go(src[i])
	}
}
