//go:build amd64 && !purego && unix

package kernels

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// TestPackedWeightsOffHeap checks that a Linear's packed weights do not grow the Go heap (they
// live in a mapping of their own: offheap_unix.go), that the Linear computes from them, and
// that dropping many Linears (whose cleanups unmap their panels) while others run is safe.
func TestPackedWeightsOffHeap(t *testing.T) {
	if avx2FMA == nil {
		t.Skip("no AVX2/FMA: Linear keeps W on the heap as given")
	}
	const out, in = 1024, 1024 // 4 MiB of packed float32 weights, 2 MiB as bf16
	r := rand.New(rand.NewPCG(81, 82))
	w, x := randSlice(r, out*in), randSlice(r, 3*in)
	for _, bf16 := range []bool{false, true} {
		newLinear := NewLinear
		if bf16 {
			newLinear = NewLinearBF16
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l, err := newLinear(w, nil, out, in)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC() // NewLinearBF16's temporary bf16 copy of W is garbage now
		runtime.ReadMemStats(&after)
		if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
			t.Errorf("bf16 %v: the heap grew by %d bytes for 4 MiB of weights; want them off the heap", bf16, grew)
		}
		got, want := make([]float32, 3*out), make([]float32, 3*out)
		l.Forward(got, x, 3, 2)
		ref := w
		if bf16 {
			ref = make([]float32, len(w))
			for i, v := range w {
				ref[i] = half.BF16ToF32(half.F32ToBF16(v))
			}
		}
		gemmNT(want, x, ref, nil, 3, out, in, 1, false, nil)
		for i := range got {
			if d := got[i] - want[i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("bf16 %v: y[%d] = %g, want %g", bf16, i, got[i], want[i])
			}
		}
		runtime.KeepAlive(l)
	}
	// Churn: Linears become garbage and are unmapped by their cleanups while others compute.
	for range 20 {
		l, err := NewLinear(w[:64*in], nil, 64, in)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, 3*64)
		l.Forward(dst, x, 3, 2)
		runtime.GC()
	}
}
