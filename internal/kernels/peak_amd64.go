//go:build amd64 && !purego

package kernels

// fmaPeak runs n iterations of 12 independent VFMADD231PS on YMM registers (12·8·2 = 192 FLOP
// per iteration), touching no memory. Implemented in peak_amd64.s.
//
//go:noescape
func fmaPeak(n int)

// peakAVX2 is the avx2FMA implementation's PeakGFLOPS loop.
func peakAVX2(n int) float32 {
	fmaPeak(n)
	return 0
}
