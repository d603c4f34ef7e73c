//go:build amd64 && !purego

package kernels

// fmaPeak runs n iterations of 12 independent VFMADD231PS on YMM registers (12·8·2 = 192 FLOP
// per iteration), touching no memory. Implemented in peak_amd64.s.
//
//go:noescape
func fmaPeak(n int)

// peakLoop returns the loop PeakGFLOPS times and its FLOP per iteration.
func peakLoop() (func(int) float32, float64) {
	if hasAVX2FMA {
		return func(n int) float32 { fmaPeak(n); return 0 }, 192
	}
	return peakLoopGo, 16
}
