package kernels

import (
	"sync"
	"sync/atomic"
	"time"
)

// bandwidthBytes is the buffer PeakBandwidth streams: far larger than any last-level cache, so
// every pass reads main memory.
const bandwidthBytes = 2 << 30

// PeakBandwidth measures this machine's memory read bandwidth in GB/s (10⁹ bytes per second),
// the ceiling of memory-bound work such as a decode step, which reads every weight once: threads
// goroutines each sum their own slice of a 2 GiB buffer (several times any last-level cache;
// some machines report an L3 of hundreds of MiB), pass after pass, for about d. It is the
// read-only part of STREAM (no writes, so no write-allocate traffic to count).
func PeakBandwidth(threads int, d time.Duration) float64 {
	buf := make([]uint64, bandwidthBytes/8)
	return streamRead(buf, max(threads, 1), d)
}

// streamRead sums disjoint parts of buf on threads goroutines until d has passed and returns
// the bytes read per second in GB/s. The buffer is first written by the same goroutines, so
// its pages are mapped (and, on NUMA machines, placed) before timing starts.
func streamRead(buf []uint64, threads int, d time.Duration) float64 {
	part := len(buf) / threads
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := buf[t*part : (t+1)*part]
			for i := range p {
				p[i] = uint64(i)
			}
		}()
	}
	wg.Wait()
	passes := make([]int64, threads)
	var sink atomic.Uint64
	start := time.Now()
	deadline := start.Add(d)
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := buf[t*part : (t+1)*part]
			var s uint64
			for {
				s += sumWords(p)
				passes[t]++
				if !time.Now().Before(deadline) {
					break
				}
			}
			sink.Add(s)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	bandwidthSink.Store(sink.Load())
	var total int64
	for _, n := range passes {
		total += n
	}
	return float64(total) * float64(part*8) / elapsed / 1e9
}

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

// bandwidthSink keeps the sums alive.
var bandwidthSink atomic.Uint64
