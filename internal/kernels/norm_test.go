package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayerNorm compares LayerNorm, with the implementation in use and with each of this
// machine's (impls), and the Go rows themselves with LayerNormRef. All compute in float64 and round once, so they may differ only
// where float64 rounding (relative error ~1e-15) tips a value across a float32 rounding
// boundary: by at most 1 ulp of the result.
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, cols := range []int{1, 3, 7, 8, 16, 24, 64, 1000, 1024, 1152, 4096, 4608} {
		for _, rows := range []int{1, 5} {
			x := randSlice(r, rows*cols)
			for i := range x {
				x[i] = 3 + 10*x[i] // a mean far from 0, values of several magnitudes
			}
			w, b := randSlice(r, cols), randSlice(r, cols)
			want := make([]float32, rows*cols)
			LayerNormRef(want, x, w, b, rows, cols, 1e-6, 1)
			check := func(name string, got []float32) {
				for i := range want {
					if d := math.Abs(float64(got[i]) - float64(want[i])); d > ulp32(want[i]) {
						t.Fatalf("%s %dx%d: [%d] = %g, want %g", name, rows, cols, i, got[i], want[i])
					}
				}
			}
			for _, threads := range []int{1, 2} {
				got := make([]float32, rows*cols)
				LayerNorm(got, x, w, b, rows, cols, 1e-6, threads)
				check(fmt.Sprintf("LayerNorm t%d", threads), got)
				for _, im := range impls {
					got := make([]float32, rows*cols)
					layerNorm(im, got, x, w, b, rows, cols, 1e-6, threads)
					check(fmt.Sprintf("%s t%d", im.name, threads), got)
				}
			}
			got := make([]float32, rows*cols)
			for i := 0; i < rows; i++ {
				layerNormRowGo(got[i*cols:(i+1)*cols], x[i*cols:(i+1)*cols], w, b, 1e-6)
			}
			check("layerNormRowGo", got)
			inPlace := append([]float32(nil), x...)
			LayerNorm(inPlace, inPlace, w, b, rows, cols, 1e-6, 2)
			check("LayerNorm in place", inPlace)
		}
	}
}

// ulp32 is the spacing of float32 values at v.
func ulp32(v float32) float64 {
	a := math.Abs(float64(v))
	if a < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(a)
	return math.Ldexp(1, e-24)
}

// BenchmarkLayerNorm reports elements per second on the 4B block's shape (432 × 1024).
func BenchmarkLayerNorm(b *testing.B) {
	r := rand.New(rand.NewPCG(43, 44))
	const rows, cols = 432, 1024
	x, w, bias := randSlice(r, rows*cols), randSlice(r, cols), randSlice(r, cols)
	dst := make([]float32, rows*cols)
	for _, f := range []struct {
		name string
		f    func(dst, x, w, b []float32, rows, cols int, eps float32, threads int)
	}{{"fast", LayerNorm}, {"ref", LayerNormRef}} {
		b.Run(f.name, func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				f.f(dst, x, w, bias, rows, cols, 1e-6, 1)
			}
			reportRate(b, rows*cols*float64(b.N), 1, cpu0, "Gelem/s", 0)
		})
	}
}
