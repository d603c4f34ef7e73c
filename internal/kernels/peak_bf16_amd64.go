//go:build amd64 && !purego

package kernels

// dpbf16Peak runs n iterations of 16 independent VDPBF16PS on ZMM registers (1024 FLOP per
// iteration). Implemented in peak_bf16_amd64.s; call it only where BF16().AVX512BF16.
//
//go:noescape
func dpbf16Peak(n int)

// bf16Peak is PeakBF16GFLOPS's loop, or nil where the CPU lacks AVX512_BF16.
var bf16Peak = func() func(int) float32 {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(n int) float32 {
		dpbf16Peak(n)
		return 0
	}
}()

const bf16PeakFLOP = 1024
