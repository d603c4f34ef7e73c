//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"
)

type gxVariant struct {
	name string
	f32   func(k int, x, b *float32, n int, c, bias *float32, accumulate bool)
	bf16  func(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)
	f32p  func(k int, x, b *float32, n int, c, bias *float32, accumulate bool, pf *float32)
	bf16p func(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, pf *uint16)
}

func (v gxVariant) set() {
	gemvF32Fn, gemvBF16Fn, gemvF32PfFn, gemvBF16PfFn = v.f32, v.bf16, v.f32p, v.bf16p
	if gemvF32Fn == nil {
		gemvF32Fn = gemvPanels
	}
	if gemvBF16Fn == nil {
		gemvBF16Fn = gemvPanelsBF16
	}
}

var gxVariants = []gxVariant{
	{name: "cur", f32: gemvPanels, bf16: gemvPanelsBF16},
	{name: "Z4/Z4np", f32: gxF32Z4, bf16: gxBFZ4np},
	{name: "Z8/Z8np", f32: gxF32Z8, bf16: gxBFZ8np},
	{name: "Z8/Z8e", f32: gxF32Z8, bf16: gxBFZ8e},
	{name: "Z8/Z8a2", f32: gxF32Z8, bf16: gxBFZ8a2},
	{name: "Z8/Z8a4", f32: gxF32Z8, bf16: gxBFZ8a4},
	{name: "Z8n1", f32p: gxF32Z8n1, bf16p: gxBFZ8n1},
	{name: "Z8n2", f32p: gxF32Z8n2, bf16p: gxBFZ8n2},
}

// TestGEMVVariantsExact: every variant equals the current kernel bit for bit.
func TestGEMVVariantsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range gemvShapes {
		w, bias := randSlice(r, s.out*s.in), randSlice(r, s.out)
		x := randSlice(r, 2*s.in)
		for _, bf := range []bool{false, true} {
			var g *packedLinear
			if bf {
				l, _ := NewLinearBF16(w, bias, s.out, s.in)
				g = l.g.(*packedLinear)
			} else {
				l, _ := NewLinear(w, bias, s.out, s.in)
				g = l.g.(*packedLinear)
			}
			want := make([]float32, 2*s.out)
			gxVariants[0].set()
			g.gemv(want, x, 2, 1, false, nil)
			for _, v := range gxVariants {
				v.set()
				got := make([]float32, 2*s.out)
				g.gemv(got, x, 2, 2, false, nil)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s bf16=%v %v [%d]: %g want %g", v.name, bf, s, i, got[i], want[i])
					}
				}
			}
		}
	}
	gxVariants[0].set()
}

func TestGEMVAB(t *testing.T) {
	if os.Getenv("GEMVAB") == "" {
		t.Skip("GEMVAB not set")
	}
	threads := 2
	fmt.Sscan(os.Getenv("GEMVAB_THREADS"), &threads)
	const cold = 256 << 20
	r := rand.New(rand.NewPCG(5, 6))
	peak := PeakBandwidth(threads, time.Second)
	fmt.Printf("read bandwidth %.1f GB/s, threads %d\n", peak, threads)
	for _, s := range decoderShapes {
		if os.Getenv("GEMVAB_SHAPE") != "" && os.Getenv("GEMVAB_SHAPE") != s.name {
			continue
		}
		w := randSlice(r, s.out*s.in)
		x, dst := randSlice(r, s.in), make([]float32, s.out)
		for _, weights := range []string{"f32", "bf16"} {
			newL, elem := NewLinear, 4
			if weights == "bf16" {
				newL, elem = NewLinearBF16, 2
			}
			size := int64(s.in) * int64(s.out) * int64(elem)
			copies := make([]*packedLinear, max(2, (cold+size-1)/size))
			for i := range copies {
				l, _ := newL(w, nil, s.out, s.in)
				copies[i] = l.g.(*packedLinear)
			}
			res := make([][]float64, len(gxVariants))
			for round := 0; round < 5; round++ {
				for vi, v := range gxVariants {
					v.set()
					for _, c := range copies { // evict
						c.gemv(dst, x, 1, threads, false, nil)
					}
					t0 := time.Now()
					n := 0
					for pass := 0; pass < 2; pass++ {
						for _, c := range copies {
							c.gemv(dst, x, 1, threads, false, nil)
							n++
						}
					}
					res[vi] = append(res[vi], float64(n)*float64(size)/time.Since(t0).Seconds()/1e9)
				}
			}
			for vi, v := range gxVariants {
				lo, hi := res[vi][0], res[vi][0]
				for _, g := range res[vi] {
					lo, hi = min(lo, g), max(hi, g)
				}
				fmt.Printf("%-8s %-5s %-10s %5.1f-%5.1f GB/s  %3.0f-%3.0f %%\n", s.name, weights, v.name, lo, hi, 100*lo/peak, 100*hi/peak)
			}
			copies = nil
			runtime.GC()
		}
	}
	gxVariants[0].set()
}
