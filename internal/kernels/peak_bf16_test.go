package kernels

import (
	"testing"
	"time"
)

// TestPeakBF16: measured exactly where the CPU and build have the instructions, and positive.
func TestPeakBF16(t *testing.T) {
	g, ok := PeakBF16GFLOPS(1, 20*time.Millisecond)
	if want := BF16().AVX512BF16 && BF16().Assembly; ok != want {
		t.Fatalf("PeakBF16GFLOPS ok = %v, want %v (%v)", ok, want, BF16())
	}
	if !ok {
		t.Skipf("no bf16 peak here (%v)", BF16())
	}
	if !(g > 0) {
		t.Errorf("bf16 peak %v GFLOP/s", g)
	}
	t.Logf("bf16 peak %.1f GFLOP/s on one thread (float32 FMA %.1f)", g, PeakGFLOPS(1, 20*time.Millisecond))
}
