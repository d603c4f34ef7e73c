package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotary holds Rotary, and each implementation of this machine (impls: the generic Go rows
// and, where present, the assembly), to RotaryRef bit for bit (all round each product, then the
// sum, in float32; RotaryRef is written from the formula and shares no code with them), on head
// sizes whose halves are and are not multiples of 8, with a row stride larger than the heads
// (whose gaps must survive), and checks RotaryRef against float64 arithmetic: two rounded
// products and a rounded sum are within 2 ulp of |a·c| + |b·s|.
func TestRotary(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, hd := range []int{2, 6, 16, 18, 64, 72, 80} {
		for _, heads := range []int{1, 3} {
			const rows = 7
			stride := heads*hd + 5
			x := randSlice(r, rows*stride)
			cos, sin := randSlice(r, rows*hd), randSlice(r, rows*hd)
			want := append([]float32(nil), x...)
			RotaryRef(want, rows, stride, heads, hd, cos, sin, 1)
			type variant struct {
				name string
				f    func(x []float32, threads int)
			}
			variants := []variant{{"Rotary", func(x []float32, threads int) { Rotary(x, rows, stride, heads, hd, cos, sin, threads) }}}
			for _, im := range impls {
				variants = append(variants, variant{im.name, func(x []float32, threads int) {
					rotary(im, x, rows, stride, heads, hd, cos, sin, threads)
				}})
			}
			for _, v := range variants {
				for _, threads := range []int{1, 2} {
					got := append([]float32(nil), x...)
					v.f(got, threads)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s hd %d heads %d t%d: [%d] = %g, RotaryRef %g", v.name, hd, heads, threads, i, got[i], want[i])
						}
					}
				}
			}
			half := hd / 2
			for row := 0; row < rows; row++ {
				for h := 0; h < heads; h++ {
					for i := 0; i < hd; i++ {
						at := row*stride + h*hd + i
						c, s := float64(cos[row*hd+i]), float64(sin[row*hd+i])
						var e, abs float64
						if i < half {
							a, b := float64(x[at]), float64(x[at+half])
							e, abs = a*c-b*s, math.Abs(a*c)+math.Abs(b*s)
						} else {
							a, b := float64(x[at-half]), float64(x[at])
							e, abs = b*c+a*s, math.Abs(b*c)+math.Abs(a*s)
						}
						if d := math.Abs(float64(want[at]) - e); d > 2*u32*abs {
							t.Fatalf("RotaryRef hd %d: [%d] = %g, exact %g", hd, at, want[at], e)
						}
					}
				}
				for at := row*stride + heads*hd; at < (row+1)*stride; at++ {
					if want[at] != x[at] {
						t.Fatalf("RotaryRef hd %d wrote the gap at %d", hd, at)
					}
				}
			}
		}
	}
}

// BenchmarkRotary reports values rotated per second on the 4B block's q and k (432 rows, 32
// heads of 64 in rows of 3072).
func BenchmarkRotary(b *testing.B) {
	r := rand.New(rand.NewPCG(53, 54))
	const rows, heads, hd, stride = 432, 32, 64, 3072
	x, cos, sin := randSlice(r, rows*stride), make([]float32, rows*hd), make([]float32, rows*hd)
	for i := range cos {
		a := r.Float64() * 2 * math.Pi
		cos[i], sin[i] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	for _, f := range []struct {
		name string
		f    func([]float32, int, int, int, int, []float32, []float32, int)
	}{{"fast", Rotary}, {"ref", RotaryRef}} {
		b.Run(fmt.Sprintf("%s/threads=1", f.name), func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				f.f(x, rows, stride, heads, hd, cos, sin, 1)
			}
			reportRate(b, rows*heads*hd*float64(b.N), 1, cpu0, "Gelem/s", 0)
		})
	}
}
