package kernels

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// PeakGFLOPS measures this machine's float32 multiply-add peak in GFLOP/s (a multiply-add counts
// as two) by running a register-only loop on threads goroutines for about d.
//
// In the avx2+fma implementation (see Name) the loop is 12 independent VFMADD231PS chains on YMM
// registers, the ceiling its GEMM can approach. In the generic one it is a plain Go loop of
// independent float32 multiply-adds, which measures what portable Go code can reach, not what
// the hardware can.
func PeakGFLOPS(threads int, d time.Duration) float64 {
	return measurePeak(active.peak, active.peakFLOP, threads, d)
}

// PeakBF16GFLOPS measures this machine's bfloat16 dot-product peak in GFLOP/s like PeakGFLOPS,
// with a register-only loop of 16 independent VDPBF16PS chains on ZMM registers (each
// instruction 16 lanes × 2 bf16 products added: 64 FLOP). ok is false, and nothing is
// measured, where the CPU lacks AVX512_BF16 or the build has no assembly (see BF16).
func PeakBF16GFLOPS(threads int, d time.Duration) (gflops float64, ok bool) {
	if bf16Peak == nil {
		return 0, false
	}
	return measurePeak(bf16Peak, bf16PeakFLOP, threads, d), true
}

// measurePeak runs loop on threads goroutines for about d and returns its GFLOP/s, counting
// flopsPerIter per iteration.
func measurePeak(loop func(int) float32, flopsPerIter float64, threads int, d time.Duration) float64 {
	threads = max(threads, 1)
	const iters = 1 << 15 // ~0.1 ms per call with the assembly loop
	loop(1 << 10)         // warm up (page in the code, wake the core)
	counts := make([]int64, threads)
	sinks := make([]float32, threads)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				sinks[t] += loop(iters)
				counts[t] += iters
				if !time.Now().Before(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var total int64
	var sink float32
	for t, c := range counts {
		total += c
		sink += sinks[t]
	}
	peakSink.Store(math.Float32bits(sink))
	return float64(total) * flopsPerIter / elapsed / 1e9
}

// peakLoopGo runs n iterations of 8 independent float32 multiply-add chains (16 FLOP) and
// returns a value derived from them so the compiler keeps the work.
func peakLoopGo(n int) float32 {
	a0, a1, a2, a3, a4, a5, a6, a7 := float32(0), float32(1), float32(2), float32(3), float32(4), float32(5), float32(6), float32(7)
	const m, c = float32(0.999999), float32(1e-7)
	for range n {
		a0 = a0*m + c
		a1 = a1*m + c
		a2 = a2*m + c
		a3 = a3*m + c
		a4 = a4*m + c
		a5 = a5*m + c
		a6 = a6*m + c
		a7 = a7*m + c
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// peakSink keeps peakLoopGo's results alive.
var peakSink atomic.Uint32
