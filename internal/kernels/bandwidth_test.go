package kernels

import (
	"math"
	"slices"
	"testing"
	"time"
)

// testStreams are every set of bandwidth loops this machine and build can run: each
// implementation's, and on amd64 both read loops the CPU has (bandwidthStreamsForTest).
func testStreams() []streamKernels {
	var s []streamKernels
	for _, im := range impls {
		s = append(s, im.stream)
	}
	return append(s, bandwidthStreamsForTest()...)
}

// The lengths cover empty, tails only, whole blocks, blocks and a tail; offsets make the
// slices start off any 32- or 64-byte boundary.
var streamLengths = []int{0, 1, 7, 15, 16, 17, 63, 64, 65, 128, 1000, 4096 + 13}

func TestStreamSum(t *testing.T) {
	for _, k := range testStreams() {
		for _, n := range streamLengths {
			for _, off := range []int{0, 1, 3} {
				buf := make([]uint64, n+off)
				for i := range buf {
					buf[i] = uint64(i)*0x9E3779B97F4A7C15 + 1 // wraps
				}
				p := buf[off:]
				var want uint64
				for _, v := range p {
					want += v
				}
				if got := k.sum(p); got != want {
					t.Errorf("%s: n=%d off=%d: %d, want %d", k.name, n, off, got, want)
				}
			}
		}
	}
}

func TestStreamCopyTriad(t *testing.T) {
	for _, k := range testStreams() {
		for _, n := range streamLengths {
			b, c := make([]float64, n+1), make([]float64, n+1)
			for i := range b {
				b[i] = math.Sin(float64(i)) * 1e3
				c[i] = math.Cos(float64(i)*0.7) / 3
			}
			b, c = b[1:], c[1:]
			// a has one sentinel past its end, which no loop may touch.
			a := make([]float64, n+1)
			a[n] = -7
			k.copy(a[:n], b)
			if !slices.Equal(a[:n], b) || a[n] != -7 {
				t.Errorf("%s: copy n=%d: wrong values or wrote past the end", k.name, n)
			}
			const q = 2.7182818
			k.triad(a[:n], b, c, q)
			for i := range n {
				if want := math.FMA(q, c[i], b[i]); a[i] != want {
					t.Errorf("%s: triad n=%d: a[%d] = %v, want %v", k.name, n, i, a[i], want)
					break
				}
			}
			if a[n] != -7 {
				t.Errorf("%s: triad n=%d wrote past the end", k.name, n)
			}
		}
	}
}

// measure returns finite positive rates on small arrays (the figures themselves are not
// checked: timings have no thresholds in tests).
func TestMeasureRuns(t *testing.T) {
	for _, k := range testStreams() {
		for _, threads := range []int{1, 2, 3} {
			n := 1 << 14
			bufs := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
			bw := measure(bufs, threads, 2*time.Millisecond, k)
			for _, v := range []float64{bw.Read, bw.Copy, bw.Triad} {
				if !(v > 0) || math.IsInf(v, 0) {
					t.Errorf("%s, %d threads: %+v", k.name, threads, bw)
				}
			}
			if bw.Kernel != k.name || bw.Threads != threads || bw.ArrayBytes != int64(n)*8 {
				t.Errorf("%s, %d threads: %+v", k.name, threads, bw)
			}
			if bw := measure(bufs[:1], threads, 0, k); bw.Read <= 0 || bw.Copy != 0 || bw.Triad != 0 {
				t.Errorf("%s, read only: %+v", k.name, bw)
			}
		}
	}
}

func TestArrayBytes(t *testing.T) {
	n := arrayBytes()
	if n < minArrayBytes || n > maxArrayBytes {
		t.Errorf("arrayBytes() = %d, outside [%d, %d]", n, minArrayBytes, maxArrayBytes)
	}
	if llc := lastLevelCacheBytes(); llc > 0 && n < min(4*llc, maxArrayBytes) {
		t.Errorf("arrayBytes() = %d, less than four last-level caches (%d)", n, llc)
	}
}
