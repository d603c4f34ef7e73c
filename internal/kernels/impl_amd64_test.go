//go:build amd64 && !purego

package kernels

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAVX2Chosen: the assembly is chosen exactly when the CPU has AVX2 and FMA.
func TestAVX2Chosen(t *testing.T) {
	has := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	if (avx2FMA != nil) != has || (Name() == "avx2+fma") != has {
		t.Errorf("AVX2 and FMA: %v; Name() = %q, avx2FMA present: %v", has, Name(), avx2FMA != nil)
	}
	t.Logf("kernels: %s (AVX2 %v, FMA %v, AVX-512F %v)", Name(), cpu.X86.HasAVX2, cpu.X86.HasFMA, cpu.X86.HasAVX512F)
}
