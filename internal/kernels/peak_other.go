//go:build !amd64 || purego

package kernels

// peakLoop returns the loop PeakGFLOPS times and its FLOP per iteration: plain Go here.
func peakLoop() (func(int) float32, float64) { return peakLoopGo, 16 }
