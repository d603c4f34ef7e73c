package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// linearShapes covers the micro-tile edges (m not a multiple of 6, out not a multiple of 16),
// K not a multiple of the K-block or of the kernel's 4-step unroll, single rows and columns,
// and cut-down versions of the model's layers.
var linearShapes = []struct{ m, out, in int }{
	{1, 1, 1},
	{1, 7, 3},
	{5, 16, 16},
	{6, 16, 4},
	{7, 17, 5},
	{13, 33, 2},
	{16, 72, 64},
	{17, 200, 64},
	{18, 96, 256},
	{1, 72, 1000},
	{37, 31, 321},
	{12, 48, 641},
	{145, 40, 37},  // more rows than one row block
	{300, 20, 330}, // several row blocks and K-blocks, one column panel
	{7, 4304, 64},  // 269 panels: many chunks, odd last panel
	{13, 1152, 1152},
	{432, 64, 1024},
	{50, 1600, 96}, // more than one chunk of panels even on one thread
	{439, 40, 330}, // last row block shorter than the others, ending in a partial micro-panel
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// tolerance bounds |computed − exact| for one output: the products and the bias are k+1 terms,
// and any float32 summation order over them (the kernels use FMA chains, per-K-block partial
// sums, or interleaved chains) rounds each term at most k+1 times including the product itself,
// so the error is at most γ(k+1)·S with S = Σ|a_p·b_p| + |bias| and γ(n) = n·u/(1 − n·u),
// u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2). The
// float64 reference adds γ₆₄(k+1)·S before its own rounding to float32 (u·|result| ≤ u·S).
func tolerance(a, b []float32, bias float32, k int) float64 {
	var s float64
	for p := 0; p < k; p++ {
		s += math.Abs(float64(a[p]) * float64(b[p]))
	}
	s += math.Abs(float64(bias))
	gamma := func(n int, u float64) float64 { return float64(n) * u / (1 - float64(n)*u) }
	return (gamma(k+1, 0x1p-24) + 0x1p-24 + gamma(k+1, 0x1p-53)) * s
}

// expectLinear returns MatMulNTRef's result for dst[m, n] = a[m, k]·w[n, k]ᵀ + bias and the
// tolerance of each output.
func expectLinear(a, w, bias []float32, m, n, k int) (want []float32, tol []float64) {
	want = make([]float32, m*n)
	MatMulNTRef(want, a, w, bias, m, n, k)
	tol = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var bj float32
			if bias != nil {
				bj = bias[j]
			}
			tol[i*n+j] = tolerance(a[i*k:(i+1)*k], w[j*k:(j+1)*k], bj, k)
		}
	}
	return want, tol
}

// checkLinear compares got [m, n] with want within tol, element by element.
func checkLinear(t *testing.T, got, want []float32, tol []float64, n int) {
	t.Helper()
	bad := 0
	for i := range want {
		g, e := got[i], want[i]
		if d := math.Abs(float64(g) - float64(e)); !(d <= tol[i]) {
			if bad++; bad <= 5 {
				t.Errorf("[%d,%d] = %g, want %g (|diff| %.3g > tolerance %.3g)", i/n, i%n, g, e, d, tol[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d of %d outputs wrong", bad, len(want))
	}
}

// TestLinearForward checks Linear.Forward, with each implementation of this machine (impls),
// against the float64 reference within the float32 error bound.
func TestLinearForward(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range linearShapes {
		w := randSlice(r, s.out*s.in)
		bias := randSlice(r, s.out)
		x := randSlice(r, s.m*s.in)
		for _, withBias := range []bool{false, true} {
			b := bias
			if !withBias {
				b = nil
			}
			want, tol := expectLinear(x, w, b, s.m, s.out, s.in)
			for _, im := range impls {
				l, err := newLinear(im, w, b, s.out, s.in)
				if err != nil {
					t.Fatal(err)
				}
				for _, threads := range []int{1, 2, 3} {
					t.Run(fmt.Sprintf("%s/m%d_%dx%d_bias%v_t%d", im.name, s.m, s.out, s.in, withBias, threads), func(t *testing.T) {
						// dst starts as NaN, so a first K-block that accumulated instead of
						// overwriting shows; the tail past m·out must survive untouched.
						dst := make([]float32, s.m*s.out+17)
						for i := range dst {
							dst[i] = float32(math.NaN())
						}
						l.Forward(dst, x, s.m, threads)
						checkLinear(t, dst[:s.m*s.out], want, tol, s.out)
						for i, v := range dst[s.m*s.out:] {
							if !math.IsNaN(float64(v)) {
								t.Fatalf("dst[%d] past the output was written: %g", s.m*s.out+i, v)
							}
						}
					})
				}
			}
		}
	}
}

// TestLinearExact uses small integers, whose products and sums are exact in float32, so every
// path must agree with the reference bit for bit whatever its summation order: this catches a
// misplaced element that a tolerance might hide.
func TestLinearExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ints := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.IntN(7) - 3)
		}
		return s
	}
	for _, s := range linearShapes {
		w, bias, x := ints(s.out*s.in), ints(s.out), ints(s.m*s.in)
		want := make([]float32, s.m*s.out)
		MatMulNTRef(want, x, w, bias, s.m, s.out, s.in)
		for _, im := range impls {
			l, err := newLinear(im, w, bias, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2, 3} {
				got := make([]float32, s.m*s.out)
				l.Forward(got, x, s.m, threads)
				port := make([]float32, s.m*s.out)
				gemmNT(port, x, w, bias, s.m, s.out, s.in, threads, false, nil)
				for i := range want {
					if got[i] != want[i] || port[i] != want[i] {
						t.Fatalf("%s m%d_%dx%d t%d: [%d,%d] Forward %g, gemmNT %g, want %g",
							im.name, s.m, s.out, s.in, threads, i/s.out, i%s.out, got[i], port[i], want[i])
					}
				}
			}
		}
	}
}

// TestGemmNTPortable checks the portable kernel directly, on its own (the generic
// implementation's Linear runs it too, in TestLinearForward).
func TestGemmNTPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range linearShapes {
		w, bias, x := randSlice(r, s.out*s.in), randSlice(r, s.out), randSlice(r, s.m*s.in)
		want, tol := expectLinear(x, w, bias, s.m, s.out, s.in)
		for _, threads := range []int{1, 2, 3} {
			got := make([]float32, s.m*s.out)
			gemmNT(got, x, w, bias, s.m, s.out, s.in, threads, false, nil)
			checkLinear(t, got, want, tol, s.out)
		}
	}
}

// TestLinearConcurrent runs one Linear from several goroutines at once (run with -race).
func TestLinearConcurrent(t *testing.T) {
	const m, out, in = 40, 100, 300
	r := rand.New(rand.NewPCG(7, 8))
	w, bias := randSlice(r, out*in), randSlice(r, out)
	l, err := NewLinear(w, bias, out, in)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		x := randSlice(r, m*in)
		want, tol := expectLinear(x, w, bias, m, out, in)
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float32, m*out)
			for range 3 {
				l.Forward(dst, x, m, 2)
			}
			checkLinear(t, dst, want, tol, out)
		}()
	}
	wg.Wait()
}

func TestNewLinearErrors(t *testing.T) {
	for _, c := range []struct {
		w, bias   []float32
		out, in   int
		shouldErr bool
	}{
		{make([]float32, 6), nil, 2, 3, false},
		{make([]float32, 6), make([]float32, 2), 2, 3, false},
		{make([]float32, 5), nil, 2, 3, true},
		{make([]float32, 6), make([]float32, 3), 2, 3, true},
		{nil, nil, 0, 3, true},
	} {
		_, err := NewLinear(c.w, c.bias, c.out, c.in)
		if (err != nil) != c.shouldErr {
			t.Errorf("NewLinear(len %d, out %d, in %d): err = %v", len(c.w), c.out, c.in, err)
		}
	}
}

func TestPeakGFLOPS(t *testing.T) {
	if g := PeakGFLOPS(1, 20*time.Millisecond); !(g > 0) || math.IsInf(g, 0) {
		t.Fatalf("PeakGFLOPS(1) = %g", g)
	}
}

// BenchmarkLinear reports GFLOP/s for the model's main shapes (rows × in → out): "GFLOP/s" by
// wall time, and "GFLOP/s-cpu", the rate per CPU-second of this process times threads, which is
// what the goroutines reached while they actually ran. On a shared, loaded machine the wall
// figure drops with other processes' load and the CPU figure much less; on an idle machine the
// two agree.
func BenchmarkLinear(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ m, in, out int }{
		{432, 1024, 4096},
		{432, 4096, 1024},
		{432, 1024, 3072},
		{11008, 1152, 4304},
	} {
		w, bias, x := randSlice(r, s.out*s.in), randSlice(r, s.out), randSlice(r, s.m*s.in)
		l, err := NewLinear(w, bias, s.out, s.in)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, s.m*s.out)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%dto%d/threads=%d", s.m, s.in, s.out, threads), func(b *testing.B) {
				l.Forward(dst, x, s.m, threads) // warm up: pack buffers, page in
				cpu0 := processCPU()
				for b.Loop() {
					l.Forward(dst, x, s.m, threads)
				}
				cpu := processCPU() - cpu0
				flop := float64(l.FLOPs(s.m)) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flop/cpu.Seconds()/1e9*float64(threads), "GFLOP/s-cpu")
				}
			})
		}
	}
}

// BenchmarkLinearCold is BenchmarkLinear as the tower runs it: the MLP's two multiplications
// of a 4B-shape block (432 × 1024 → 4096, then 432 × 4096 → 1024) for 12 blocks with distinct
// weights (384 MiB in float32, far more than the L3 cache), so every block's weights come from
// memory, not from cache; with float32 weights and with bf16 ones (NewLinearBF16).
func BenchmarkLinearCold(b *testing.B) {
	const m, d, h, blocks = 432, 1024, 4096, 12
	r := rand.New(rand.NewPCG(11, 12))
	x, mid := randSlice(r, m*d), make([]float32, m*h)
	for _, weights := range []string{"f32", "bf16"} {
		newLinear := NewLinear
		if weights == "bf16" {
			newLinear = NewLinearBF16
		}
		var fc1, fc2 []*Linear
		for range blocks {
			l1, err := newLinear(randSlice(r, h*d), randSlice(r, h), h, d)
			if err != nil {
				b.Fatal(err)
			}
			l2, err := newLinear(randSlice(r, d*h), randSlice(r, d), d, h)
			if err != nil {
				b.Fatal(err)
			}
			fc1, fc2 = append(fc1, l1), append(fc2, l2)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", weights, threads), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					for i := range blocks {
						fc1[i].Forward(mid, x, m, threads)
						fc2[i].ForwardAdd(x, mid, m, threads)
					}
				}
				cpu := processCPU() - cpu0
				flop := float64(blocks*(fc1[0].FLOPs(m)+fc2[0].FLOPs(m))) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flop/cpu.Seconds()/1e9*float64(threads), "GFLOP/s-cpu")
				}
			})
		}
	}
}

// BenchmarkPeak reports PeakGFLOPS on one and two goroutines, and as in BenchmarkLinear the
// same rate per CPU-second actually used ("GFLOP/s-cpu").
func BenchmarkPeak(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			var g, flop float64
			cpu0 := processCPU()
			for b.Loop() {
				start := time.Now()
				g = PeakGFLOPS(threads, 200*time.Millisecond)
				flop += g * time.Since(start).Seconds()
			}
			cpu := processCPU() - cpu0
			b.ReportMetric(g, "GFLOP/s")
			if cpu > 0 {
				b.ReportMetric(flop/cpu.Seconds()*float64(threads), "GFLOP/s-cpu")
			}
		})
	}
}

// TestLinearForwardAdd checks dst += x·Wᵀ + b, with each implementation and on the portable gemmNT, with
// and without bias: against the float64 reference, the old value of dst is one more term of
// the sum, so the bound of TestLinearForward applies with k+2 terms; with small integers
// (exact in float32) the result must be exact.
func TestLinearForwardAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, s := range linearShapes {
		w, bias, x := randSlice(r, s.out*s.in), randSlice(r, s.out), randSlice(r, s.m*s.in)
		d0 := randSlice(r, s.m*s.out)
		for _, withBias := range []bool{false, true} {
			b := bias
			if !withBias {
				b = nil
			}
			want := make([]float32, s.m*s.out)
			MatMulNTRef(want, x, w, b, s.m, s.out, s.in)
			tol := make([]float64, len(want))
			for i := 0; i < s.m; i++ {
				for j := 0; j < s.out; j++ {
					var sum float64
					for p := 0; p < s.in; p++ {
						sum += math.Abs(float64(x[i*s.in+p]) * float64(w[j*s.in+p]))
					}
					if b != nil {
						sum += math.Abs(float64(b[j]))
					}
					at := i*s.out + j
					sum += math.Abs(float64(d0[at]))
					tol[at] = (gamma(s.in+2) + 2*u32) * sum
					want[at] = float32(float64(want[at]) + float64(d0[at]))
				}
			}
			for _, threads := range []int{1, 3} {
				for _, im := range impls {
					l, err := newLinear(im, w, b, s.out, s.in)
					if err != nil {
						t.Fatal(err)
					}
					got := append([]float32(nil), d0...)
					l.ForwardAdd(got, x, s.m, threads)
					checkLinear(t, got, want, tol, s.out)
				}
				port := append([]float32(nil), d0...)
				gemmNT(port, x, w, b, s.m, s.out, s.in, threads, true, nil)
				checkLinear(t, port, want, tol, s.out)
			}
		}
		// Exact: small integers.
		ints := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(r.IntN(7) - 3)
			}
			return v
		}
		wi, bi, xi, di := ints(s.out*s.in), ints(s.out), ints(s.m*s.in), ints(s.m*s.out)
		want := make([]float32, s.m*s.out)
		MatMulNTRef(want, xi, wi, bi, s.m, s.out, s.in)
		for _, im := range impls {
			l, err := newLinear(im, wi, bi, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			got := append([]float32(nil), di...)
			l.ForwardAdd(got, xi, s.m, 2)
			for i := range want {
				if got[i] != want[i]+di[i] {
					t.Fatalf("%s m%d_%dx%d exact: [%d] = %g, want %g", im.name, s.m, s.out, s.in, i, got[i], want[i]+di[i])
				}
			}
		}
	}
}
