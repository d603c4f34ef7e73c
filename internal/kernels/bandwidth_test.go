package kernels

import (
	"math"
	"testing"
	"time"
)

func TestSumWords(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 1000, 1003} {
		p := make([]uint64, n)
		var want uint64
		for i := range p {
			p[i] = uint64(i)*0x9E3779B97F4A7C15 + 1
			want += p[i]
		}
		if got := sumWords(p); got != want {
			t.Errorf("n=%d: %d, want %d", n, got, want)
		}
	}
}

// streamRead returns a finite positive rate on a small buffer (the figure itself is not
// checked: timings have no thresholds in tests).
func TestStreamReadRuns(t *testing.T) {
	for _, threads := range []int{1, 2} {
		gbps := streamRead(make([]uint64, 1<<16), threads, 5*time.Millisecond)
		if !(gbps > 0) || math.IsInf(gbps, 0) {
			t.Errorf("%d threads: %v GB/s", threads, gbps)
		}
	}
}
