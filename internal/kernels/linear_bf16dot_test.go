package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestLinearBF16Dot: a bf16-arithmetic Linear gives, bit for bit, the definition
// (gemmBF16Ref) plus the bias, and with ForwardAdd the previous values plus that, with every
// tile implementation this machine has (with its one-row kernels for m = 1), the Go and (where
// present) assembly packing, on 1 to 3
// goroutines, for row counts around the 8-row blocks and the 256-row tasks and for shapes
// around the 32-column panels and an odd in.
func TestLinearBF16Dot(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 1))
	packs := map[string]bf16Pack{"go-pack": nil}
	if bf16PackAsm != nil {
		packs["asm-pack"] = bf16PackAsm
	}
	shapes := []struct{ out, in int }{{1, 1}, {31, 7}, {32, 16}, {33, 33}, {70, 96}, {64, 131}, {128, 5}, {290, 64}}
	for _, kind := range []string{"normal", "wide", "special"} {
		for _, s := range shapes {
			for _, m := range []int{1, 4, 7, 8, 9, 17, 263} {
				x, w := bf16Operands(r, kind, m, s.out, s.in)
				bias := randSlice(r, s.out)
				base := randSlice(r, m*s.out)
				prod := gemmBF16Ref(x, w, m, s.out, s.in)
				for tname, tile := range bf16Tiles() {
					for pname, pack := range packs {
						for _, withBias := range []bool{false, true} {
							var b []float32
							if withBias {
								b = bias
							}
							l, err := newLinearBF16Dot(w, b, s.out, s.in, tile, bf16Tile4s()[tname], pack, bf16Gemvs()[tname], bf16Gemv4s()[tname])
							if err != nil {
								t.Fatal(err)
							}
							for threads := 1; threads <= 3; threads++ {
								for _, add := range []bool{false, true} {
									got := append([]float32(nil), base...)
									if add {
										l.ForwardAdd(got, x, m, threads)
									} else {
										l.Forward(got, x, m, threads)
									}
									for i, p := range prod {
										want := p
										if withBias {
											want += b[i%s.out]
										}
										if add {
											want = base[i] + want
										}
										if !sameBits(got[i], want) {
											t.Fatalf("%s %s %s %dx%dx%d bias %v threads %d add %v: y[%d] = %g (%#08x), want %g (%#08x)",
												kind, tname, pname, m, s.out, s.in, withBias, threads, add, i,
												got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// sameBits is bit equality, except that any two NaNs are equal (which NaN a sum of NaNs
// gives is the instruction's, already held to the reference by TestGEMMBF16).
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// TestLinearBF16DotErrors: shapes are validated as for NewLinear.
func TestLinearBF16DotErrors(t *testing.T) {
	for _, c := range []struct {
		w       int
		bias    []float32
		out, in int
	}{{5, nil, 2, 3}, {6, make([]float32, 3), 2, 3}, {0, nil, 0, 3}} {
		if _, err := NewLinearBF16Dot(make([]uint16, c.w), c.bias, c.out, c.in); err == nil {
			t.Errorf("accepted %d weights, bias %d, for [%d, %d]", c.w, len(c.bias), c.out, c.in)
		}
	}
}

// BenchmarkLinearBF16Dot times the bf16-arithmetic Linear (packing included) against the
// float32 Linear on the same bf16 weights, at the 4B tower's shapes on the seed image (432
// rows), on 1 and 2 threads.
func BenchmarkLinearBF16Dot(b *testing.B) {
	if !BF16Dot() {
		b.Skipf("no bf16 assembly here (bf16: %s)", BF16())
	}
	r := rand.New(rand.NewPCG(27, 2))
	for _, sh := range [][3]int{{432, 3072, 1024}, {432, 4096, 1024}, {432, 1024, 4096}, {432, 1024, 1024}} {
		m, out, in := sh[0], sh[1], sh[2]
		x, w := bf16Operands(r, "normal", m, out, in)
		dot, err := NewLinearBF16Dot(w, nil, out, in)
		if err != nil {
			b.Fatal(err)
		}
		f32, err := NewLinearBF16Bits(w, nil, out, in)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, m*out)
		for _, l := range []struct {
			name string
			lin  *Linear
		}{{"bf16dot", dot}, {"f32", f32}} {
			for th := 1; th <= 2; th++ {
				b.Run(fmt.Sprintf("%s/%dx%dx%d/threads=%d", l.name, m, out, in, th), func(b *testing.B) {
					for b.Loop() {
						l.lin.Forward(dst, x, m, th)
					}
					b.ReportMetric(float64(l.lin.FLOPs(m))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkGEMVBF16Dot is BenchmarkGEMV for the bf16-arithmetic Linear: one row (a decode
// step's, packing included) through each 2B decoder projection, its weights coming from memory
// (the next of enough copies to fill 1 GiB each iteration), on one and two goroutines; the bytes
// per second are of weights read, %read that rate over MeasureBandwidth's read rate.
func BenchmarkGEMVBF16Dot(b *testing.B) {
	if !BF16Dot() {
		b.Skipf("no bf16 assembly here (bf16: %s)", BF16())
	}
	const coldBytes = 1 << 30
	r := rand.New(rand.NewPCG(207, 208))
	for _, s := range decoderShapes {
		b.Run(s.name, func(b *testing.B) {
			x, w := bf16Operands(r, "normal", 1, s.out, s.in)
			dst := make([]float32, s.out)
			size := int64(s.in) * int64(s.out) * 2
			copies := make([]*Linear, max(1, (coldBytes+size-1)/size))
			for i := range copies {
				l, err := NewLinearBF16Dot(w, nil, s.out, s.in)
				if err != nil {
					b.Fatal(err)
				}
				copies[i] = l
			}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
					for _, l := range copies { // warm up: page in, evict the previous run's
						l.Forward(dst, x, 1, threads)
					}
					b.SetBytes(size)
					i := 0
					for b.Loop() {
						copies[i%len(copies)].Forward(dst, x, 1, threads)
						i++
					}
					gbs := float64(size) * float64(b.N) / b.Elapsed().Seconds() / 1e9
					b.ReportMetric(100*gbs/readBandwidth(threads), "%read")
				})
			}
			copies = nil
			runtime.GC()
		})
	}
}
