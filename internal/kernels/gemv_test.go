package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// paths is a gemm with both of its paths, so the tests and benchmarks can run either on any m.
type paths interface {
	gemm
	gemv(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool
	gemm(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool
}

// gemvShapes: out and in below, at and past one panel (16) and one K-block (kcMax = 320), not
// multiples of 16, 8 or 4; a last partial panel after full groups of four and after a single;
// more panels than one task; K of one step.
var gemvShapes = []struct{ out, in int }{
	{1, 1}, {7, 3}, {16, 16}, {17, 5}, {33, 2}, {64, 1}, {72, 1000}, {31, 321}, {48, 641},
	{1600, 96}, {4304, 64}, {200, 700}, {1000, 37}, {87, 330}, {2050, 129},
}

// TestGEMV checks each implementation's GEMV against the float64 reference on the unpacked W
// within the float32 error bound, and against the same implementation's GEMM bit for bit (the
// promise that a row's result does not depend on the path), for 1 to 5 rows (Linear takes the
// GEMV for m ≤ gemvMaxRows; one more is tested directly), f32 and bf16
// weights (the reference on the bf16-rounded W), with and without bias, Forward and
// ForwardAdd, on 1 to 3 goroutines, with each GEMV kernel set the machine has (AVX2, AVX-512).
// dst's values past the output must survive.
func TestGEMV(t *testing.T) {
	r := rand.New(rand.NewPCG(201, 202))
	for _, s := range gemvShapes {
		w, bias := randSlice(r, s.out*s.in), randSlice(r, s.out)
		w16 := make([]uint16, len(w))
		wr := make([]float32, len(w)) // w rounded to bf16
		for i, v := range w {
			w16[i] = half.F32ToBF16(v)
			wr[i] = half.BF16ToF32(w16[i])
		}
		for _, m := range []int{1, 2, 3, 4, 5} {
			x, d0 := randSlice(r, m*s.in), randSlice(r, m*s.out)
			for _, weights := range []string{"f32", "bf16"} {
				ref := w
				if weights == "bf16" {
					ref = wr
				}
				for _, withBias := range []bool{false, true} {
					b := bias
					if !withBias {
						b = nil
					}
					want, tol := expectLinear(x, ref, b, m, s.out, s.in)
					for _, im := range impls {
						var g gemm
						if weights == "bf16" {
							g = im.newGEMMBF16(w16, b, s.out, s.in)
						} else {
							g = im.newGEMM(w, b, s.out, s.in)
						}
						pg := g.(paths)
						sets, use := gemvKernelSets(g)
						for si, set := range sets {
							use(si)
							for _, add := range []bool{false, true} {
								wantAdd := want
								if add {
									wantAdd = make([]float32, len(want))
									for i := range want {
										wantAdd[i] = want[i] + d0[i]
									}
								}
								for threads := 1; threads <= 3; threads++ {
									name := fmt.Sprintf("%s/%s/m%d_%dx%d_bias%v_add%v_t%d", kernelName(im.name, set), weights, m, s.out, s.in, withBias, add, threads)
									got := make([]float32, m*s.out+5)
									gemmOut := make([]float32, m*s.out)
									for i := range got {
										got[i] = float32(math.NaN())
									}
									if add {
										copy(got, d0)
										copy(gemmOut, d0)
									}
									if !pg.gemv(got, x, m, threads, add, nil) || !pg.gemm(gemmOut, x, m, threads, add, nil) {
										t.Fatalf("%s: a path reported a skipped task without a done channel", name)
									}
									for i, v := range got[m*s.out:] {
										if !math.IsNaN(float64(v)) {
											t.Fatalf("%s: dst[%d] past the output was written: %g", name, m*s.out+i, v)
										}
									}
									got = got[:m*s.out]
									// The sum with d0 rounds once more: allow one rounding of it.
									addTol := tol
									if add {
										addTol = make([]float64, len(tol))
										for i := range tol {
											addTol[i] = tol[i] + math.Abs(float64(wantAdd[i]))*0x1p-23
										}
									}
									t.Run(name, func(t *testing.T) {
										checkLinear(t, got, wantAdd, addTol, s.out)
										for i := range got {
											if math.Float32bits(got[i]) != math.Float32bits(gemmOut[i]) {
												t.Fatalf("[%d,%d]: GEMV %g, GEMM %g", i/s.out, i%s.out, got[i], gemmOut[i])
											}
										}
									})
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestGEMVChosen: Linear takes the GEMV for m ≤ gemvMaxRows and the GEMM above, as the task
// counts show (the GEMV's tasks are column chunks over all of K, which for this shape are
// fewer than the GEMM's).
func TestGEMVChosen(t *testing.T) {
	r := rand.New(rand.NewPCG(203, 204))
	const out, in = 2000, 128 // GEMV: 4 tasks of 256 KiB; GEMM: 32 (avx2+fma) or 8 (generic)
	w, x := randSlice(r, out*in), randSlice(r, (gemvMaxRows+1)*in)
	dst := make([]float32, (gemvMaxRows+1)*out)
	for _, im := range impls {
		l, err := newLinear(im, w, nil, out, in)
		if err != nil {
			t.Fatal(err)
		}
		pg := l.g.(paths)
		for m := 1; m <= gemvMaxRows+1; m++ {
			viaLinear := countTasks(func() { l.Forward(dst, x, m, 2) }, nil)
			viaGEMV := countTasks(func() { pg.gemv(dst, x, m, 2, false, nil) }, nil)
			viaGEMM := countTasks(func() { pg.gemm(dst, x, m, 2, false, nil) }, nil)
			want, path := viaGEMM, "GEMM"
			if m <= gemvMaxRows {
				want, path = viaGEMV, "GEMV"
			}
			if viaLinear != want || viaGEMV == viaGEMM {
				t.Errorf("%s m=%d: Forward ran %d tasks, GEMV %d, GEMM %d; want the %s's", im.name, m, viaLinear, viaGEMV, viaGEMM, path)
			}
		}
	}
}

// decoderShapes are the projections of the 2B text decoder (text.Preset("qwen3-vl-2b"): hidden
// 2048, intermediate 6144, 16 query and 8 key-value heads of 128, vocabulary 151,936).
var decoderShapes = []struct {
	name    string
	in, out int
}{
	{"q", 2048, 2048}, {"k_v", 2048, 1024}, {"o", 2048, 2048}, {"gate_up", 2048, 6144},
	{"down", 6144, 2048}, {"lm_head", 2048, 151936},
}

// BenchmarkGEMV runs one row through each 2B decoder projection with f32 and bf16 weights, by
// the GEMV (what Linear does for m ≤ gemvMaxRows; with each of its kernel sets on this machine,
// gemvKernelSets) and by the GEMM (the path m = 1 took before), on one and two goroutines; the
// bytes per second are of weights read (b.SetBytes: the resident weights), and %read is that
// rate over MeasureBandwidth's read rate on as many goroutines (measured once per count, for a
// second, before the first benchmark that reports it: a noisy machine moves both).
// As in a decode step, whose 3.4 GB of bf16 weights no cache holds, the weights come from
// memory: each iteration takes the next of enough copies of the layer to fill coldBytes, past
// the last-level cache (480 MiB on the machine this was written on). Run as -bench
// GEMV/lm_head or the like: each shape builds its copies anew.
func BenchmarkGEMV(b *testing.B) {
	const coldBytes = 1 << 30
	r := rand.New(rand.NewPCG(205, 206))
	for _, s := range decoderShapes {
		b.Run(s.name, func(b *testing.B) {
			w := randSlice(r, s.out*s.in)
			x, dst := randSlice(r, s.in), make([]float32, s.out)
			for _, weights := range []string{"f32", "bf16"} {
				newLinear, elem := NewLinear, 4
				if weights == "bf16" {
					newLinear, elem = NewLinearBF16, 2
				}
				size := int64(s.in) * int64(s.out) * int64(elem)
				copies := make([]paths, max(1, (coldBytes+size-1)/size))
				for i := range copies {
					l, err := newLinear(w, nil, s.out, s.in)
					if err != nil {
						b.Fatal(err)
					}
					copies[i] = l.g.(paths)
				}
				sets, _ := gemvKernelSets(copies[0])
				use := func(i int) {
					for _, c := range copies {
						_, u := gemvKernelSets(c)
						u(i)
					}
				}
				for _, path := range []string{"gemv", "gemm"} {
					for si, set := range sets {
						if path == "gemm" && si > 0 {
							break // the GEMM has one kernel
						}
						name := path
						if path == "gemv" && set != "" {
							name += "/" + set
						}
						for _, threads := range []int{1, 2} {
							b.Run(fmt.Sprintf("%s/%s/threads=%d", weights, name, threads), func(b *testing.B) {
								use(si)
								run := func(i int) {
									if path == "gemv" {
										copies[i%len(copies)].gemv(dst, x, 1, threads, false, nil)
									} else {
										copies[i%len(copies)].gemm(dst, x, 1, threads, false, nil)
									}
								}
								b.SetBytes(size)
								for i := range copies { // warm up: page in, evict the previous run's
									run(i)
								}
								i := 0
								for b.Loop() {
									run(i)
									i++
								}
								gbs := float64(size) * float64(b.N) / b.Elapsed().Seconds() / 1e9
								b.ReportMetric(100*gbs/readBandwidth(threads), "%read")
							})
						}
					}
				}
				use(0)
				copies = nil
				runtime.GC() // free the copies' off-heap panels before the next set
			}
		})
	}
}

// readBandwidths caches readBandwidth's measurements by goroutine count.
var readBandwidths = map[int]float64{}

// readBandwidth returns PeakBandwidth on threads goroutines for a second, measured on the first
// call for that count.
func readBandwidth(threads int) float64 {
	if bw, ok := readBandwidths[threads]; ok {
		return bw
	}
	bw := PeakBandwidth(threads, time.Second)
	readBandwidths[threads] = bw
	return bw
}

// kernelName names an implementation's kernel set in a test or benchmark: the implementation,
// then the set if it has several ("avx2+fma/avx512").
func kernelName(impl, set string) string {
	if set == "" {
		return impl
	}
	return impl + "/" + set
}
