package kernels

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Bandwidth is one STREAM-like measurement of this machine's memory bandwidth, in GB/s (10⁹
// bytes per second), each figure the best of several passes over arrays of ArrayBytes each,
// split into disjoint contiguous chunks, one per goroutine.
type Bandwidth struct {
	// Read is the rate of summing one array (8-byte words, wrapping integer adds, several
	// vector accumulators): loads only, what a decode step does with its weights.
	Read float64
	// Copy (a[i] = b[i]) and Triad (a[i] = b[i] + q·c[i], float64) count, as STREAM does, the
	// bytes named in the source: 16 and 24 per element. The write-allocate reads of a's
	// cache lines (plain stores, not non-temporal ones) are not counted, so the traffic the
	// memory sees is about 3/2 and 4/3 of these figures. Zero when not measured.
	Copy, Triad float64
	// ArrayBytes is the size of each array: at least four times the last-level cache.
	ArrayBytes int64
	// Threads is the number of goroutines; Kernel names the read loop ("avx512", "avx2",
	// "generic").
	Threads int
	Kernel  string
}

// The array size: four times the last-level cache (all its instances together), at least
// minArrayBytes and at most maxArrayBytes; defaultArrayBytes when the cache size is unknown.
const (
	minArrayBytes     = 512 << 20
	maxArrayBytes     = 4 << 30
	defaultArrayBytes = 2 << 30
)

// arrayBytes is the size of each array of a measurement on this machine.
func arrayBytes() int64 {
	llc := lastLevelCacheBytes()
	if llc <= 0 {
		return defaultArrayBytes
	}
	return min(max(4*llc, minArrayBytes), maxArrayBytes)
}

// PeakBandwidth measures this machine's memory read bandwidth in GB/s on threads goroutines
// for about d: MeasureBandwidth's Read figure, the ceiling of a decode step, which reads every
// weight once.
func PeakBandwidth(threads int, d time.Duration) float64 {
	return MeasureBandwidth(threads, d, false).Read
}

// MeasureBandwidth measures the read rate for about d (and, with all, copy and triad for about
// d each as well) on threads goroutines. The arrays live outside the Go heap and are unmapped
// before it returns. Each goroutine first writes its own chunks (so their pages are mapped, and
// on NUMA machines placed near it); then whole passes run, every goroutine over its chunk at
// once, each pass timed from the start of the first goroutine to the end of the last, until d
// has passed (at least three passes); the figure is that of the fastest pass.
func MeasureBandwidth(threads int, d time.Duration, all bool) Bandwidth {
	threads = max(threads, 1)
	n := int(arrayBytes() / 8)
	n -= n % (threads * 64) // whole 512-byte blocks per goroutine
	arrays := 1
	if all {
		arrays = 3
	}
	bufs := make([][]float64, arrays)
	for i := range bufs {
		var free func()
		bufs[i], free = offHeap[float64](n)
		if free != nil {
			defer free()
		}
	}
	return measure(bufs, threads, d, active.stream)
}

// measure runs the passes of MeasureBandwidth over bufs (one array: read only; three: read,
// copy and triad) with the kernels k.
func measure(bufs [][]float64, threads int, d time.Duration, k streamKernels) Bandwidth {
	n := len(bufs[0])
	part := n / threads
	chunk := func(b []float64, t int) []float64 { return b[t*part : (t+1)*part] }
	parallel := func(f func(t int)) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(t)
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	parallel(func(t int) {
		for _, b := range bufs {
			p := chunk(b, t)
			for i := range p {
				p[i] = float64(i&1023) + 0.5
			}
		}
	})
	best := func(bytesPerPass int64, pass func(t int)) float64 {
		var fastest time.Duration
		deadline := time.Now().Add(d)
		for i := 0; i < 3 || time.Now().Before(deadline); i++ {
			if el := parallel(pass); i == 0 || el < fastest {
				fastest = el
			}
		}
		return float64(bytesPerPass) / max(fastest.Seconds(), 1e-9) / 1e9
	}
	res := Bandwidth{Threads: threads, Kernel: k.name, ArrayBytes: int64(n) * 8}
	sums := make([]uint64, threads)
	res.Read = best(int64(n)*8, func(t int) { sums[t] += k.sum(words(chunk(bufs[0], t))) })
	var s uint64
	for _, v := range sums {
		s += v
	}
	bandwidthSink.Store(s)
	if len(bufs) == 3 {
		a, b, c := bufs[0], bufs[1], bufs[2]
		res.Copy = best(int64(n)*16, func(t int) { k.copy(chunk(a, t), chunk(b, t)) })
		res.Triad = best(int64(n)*24, func(t int) { k.triad(chunk(a, t), chunk(b, t), chunk(c, t), 3) })
	}
	return res
}

// words views p's bits as 8-byte words.
func words(p []float64) []uint64 {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&p[0])), len(p))
}

// streamKernels are the loops of MeasureBandwidth, one set per implementation (impl.stream).
type streamKernels struct {
	name string
	// sum returns the wrapping sum of p.
	sum func(p []uint64) uint64
	// copy sets a[i] = b[i] (len(a) == len(b)).
	copy func(a, b []float64)
	// triad sets a[i] = b[i] + q·c[i], one rounding (a fused multiply-add), for equal lengths.
	triad func(a, b, c []float64, q float64)
}

// genericStream is the portable Go set.
var genericStream = streamKernels{name: "generic", sum: sumWords, copy: copyGo, triad: triadGo}

// sumWords returns the wrapping sum of p, with eight independent accumulators and no bounds
// checks in the loop, so that it is bound by loads, not by the add chains.
func sumWords(p []uint64) uint64 {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint64
	for len(p) >= 8 {
		q := p[:8:8]
		a0 += q[0]
		a1 += q[1]
		a2 += q[2]
		a3 += q[3]
		a4 += q[4]
		a5 += q[5]
		a6 += q[6]
		a7 += q[7]
		p = p[8:]
	}
	for _, v := range p {
		a0 += v
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// copyGo is the portable copy loop (the runtime's memmove).
func copyGo(a, b []float64) { copy(a, b[:len(a)]) }

// triadGo is the portable triad loop.
func triadGo(a, b, c []float64, q float64) {
	b, c = b[:len(a)], c[:len(a)]
	for i := range a {
		a[i] = math.FMA(q, c[i], b[i])
	}
}

// bandwidthSink keeps the sums alive.
var bandwidthSink atomic.Uint64
