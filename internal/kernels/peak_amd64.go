//go:build amd64 && !purego

package kernels

// fmaPeak runs n iterations of 12 independent VFMADD231PS on YMM registers (12·8·2 = 192 FLOP
// per iteration), touching no memory. Implemented in peak_amd64.s.
//
//go:noescape
func fmaPeak(n int)

// peakLoop returns the loop PeakGFLOPS times and its FLOP per iteration.
func peakLoop() (func(int), float64) {
	if hasAVX2FMA {
		return fmaPeak, 192
	}
	return peakLoopGoFunc, 16
}
