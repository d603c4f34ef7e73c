package kernels

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The decoder kernels (RMSNorm, SiLUMul, CausalAttention) are portable Go shared by every
// implementation (impls), so each is tested once against its reference.

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, cols := range []int{1, 3, 8, 64, 128, 1000, 2048} {
		for _, rows := range []int{1, 5} {
			x, w := randSlice(r, rows*cols), randSlice(r, cols)
			for i := range x {
				x[i] *= 30
			}
			want := make([]float32, rows*cols)
			RMSNormRef(want, x, w, rows, cols, 1e-6, 1)
			for _, threads := range []int{1, 3} {
				got := make([]float32, rows*cols)
				RMSNorm(got, x, w, rows, cols, 1e-6, threads)
				for i := range want {
					if d := math.Abs(float64(got[i]) - float64(want[i])); d > ulp32(want[i]) {
						t.Fatalf("%dx%d t%d: [%d] = %g, want %g", rows, cols, threads, i, got[i], want[i])
					}
				}
			}
			// Against the formula in float64: within a few float32 roundings.
			for i := range want {
				row := x[(i/cols)*cols : (i/cols+1)*cols]
				var sq float64
				for _, v := range row {
					sq += float64(v) * float64(v)
				}
				exact := float64(w[i%cols]) * float64(x[i]) / math.Sqrt(sq/float64(cols)+1e-6)
				if d := math.Abs(exact - float64(want[i])); d > 4*ulp32(want[i]) {
					t.Fatalf("%dx%d: ref [%d] = %g, formula %g", rows, cols, i, want[i], exact)
				}
			}
			inPlace := append([]float32(nil), x...)
			RMSNorm(inPlace, inPlace, w, rows, cols, 1e-6, 2)
			for i := range want {
				if d := math.Abs(float64(inPlace[i]) - float64(want[i])); d > ulp32(want[i]) {
					t.Fatalf("in place [%d] = %g, want %g", i, inPlace[i], want[i])
				}
			}
		}
	}
}

func TestSiLUMul(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n := 10000
	gate, up := randSlice(r, n), randSlice(r, n)
	for i := range gate {
		gate[i] *= 40 // saturated both ways, and e^−x overflowing for x < −88
	}
	gate[0], gate[1] = -100, 100
	want := append([]float32(nil), gate...)
	SiLUMulRef(want, up, 1)
	got := append([]float32(nil), gate...)
	SiLUMul(got, up, 3)
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > ulp32(want[i]) {
			t.Fatalf("[%d] SiLUMul(%g, %g) = %g, want %g", i, gate[i], up[i], got[i], want[i])
		}
		x := float64(gate[i])
		exact := x / (1 + math.Exp(-x)) * float64(up[i])
		if d := math.Abs(exact - float64(want[i])); d > 2*ulp32(want[i]) {
			t.Fatalf("[%d] SiLUMulRef(%g, %g) = %g, formula %g", i, gate[i], up[i], want[i], exact)
		}
	}
}

// TestSiLUMulFast holds SiLUMulFast to its documented bound against the float64 formula, on
// values saturated both ways and past the exponent clamp.
func TestSiLUMulFast(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 11))
	n := 10000
	gate, up := randSlice(r, n), randSlice(r, n)
	for i := range gate {
		gate[i] *= 40
	}
	gate[0], gate[1], gate[2], gate[3] = -100, 100, 0, -87.5
	got := append([]float32(nil), gate...)
	SiLUMulFast(got, up, 3)
	worst := 0.0
	for i, g := range gate {
		x, y := float64(g), float64(up[i])
		exact := x / (1 + math.Exp(-x)) * y
		bound := (2*math.Abs(x)+8)*0x1p-24*math.Abs(exact) + math.Abs(x*y)*6e-39
		d := math.Abs(float64(got[i]) - exact)
		if !(d <= bound) {
			t.Fatalf("[%d] SiLUMulFast(%g, %g) = %g, exact %g (|diff| %.3g > %.3g)", i, g, up[i], got[i], exact, d, bound)
		}
		if bound > 0 {
			worst = max(worst, d/bound)
		}
	}
	t.Logf("worst error %.3f of the bound", worst)
}

func TestCausalAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ n, p0, heads, kvHeads, headDim, stride int }{
		{1, 0, 1, 1, 4, 1},
		{5, 0, 4, 2, 8, 5},
		{1, 9, 4, 2, 128, 16}, // a decode step
		{37, 3, 8, 1, 16, 50}, // several query blocks, one kv head
		{20, 0, 16, 8, 64, 20},
		{32, 0, 4, 2, 128, 32},   // the matrix-product path from here on
		{100, 20, 4, 2, 64, 130}, // after cached positions
		{300, 0, 2, 1, 16, 300},  // two query blocks
	} {
		name := fmt.Sprintf("%+v", c)
		d := c.heads * c.headDim
		q := randSlice(r, c.n*d)
		k := randSlice(r, c.kvHeads*c.stride*c.headDim)
		v := randSlice(r, c.kvHeads*c.stride*c.headDim)
		for i := range q {
			q[i] *= 3
		}
		want := make([]float32, c.n*d)
		CausalAttentionRef(want, q, k, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, 1)
		// The error bound: a float32 dot product of headDim terms is within
		// headDim·2⁻²⁴·Σ|q_c·k_c| of the exact one (any summation order), so each scaled score
		// is within e = that·scale plus its own rounding; the softmax weights then move by at
		// most a factor e^(2e) − 1 ≈ 2e, and the output, a convex combination of values, by
		// 2e·max|v| — plus the float32 roundings of the weights and the weighted sum.
		var vmax float64
		for _, x := range v {
			vmax = max(vmax, math.Abs(float64(x)))
		}
		scale := 1 / math.Sqrt(float64(c.headDim))
		bound := make([]float64, c.n*c.heads) // per query row and head
		for i := 0; i < c.n; i++ {
			for h := 0; h < c.heads; h++ {
				g := h / (c.heads / c.kvHeads)
				var worst float64
				for j := 0; j <= c.p0+i; j++ {
					var abs float64
					for e := 0; e < c.headDim; e++ {
						abs += math.Abs(float64(q[i*d+h*c.headDim+e]) * float64(k[(g*c.stride+j)*c.headDim+e]))
					}
					worst = max(worst, abs)
				}
				es := float64(c.headDim)*0x1p-24*worst*scale + 0x1p-24*worst*scale
				bound[i*c.heads+h] = 2*es*vmax + float64(c.p0+i+2)*0x1p-23*vmax
			}
		}
		for _, threads := range []int{1, 3} {
			got := make([]float32, c.n*d)
			CausalAttention(got, q, k, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, threads)
			for i := range want {
				if e := math.Abs(float64(got[i]) - float64(want[i])); e > bound[i/c.headDim] {
					t.Fatalf("%s t%d: [%d] = %g, want %g (bound %.3g)", name, threads, i, got[i], want[i], bound[i/c.headDim])
				}
			}
		}
		// Causality: query row i must not change when later keys change.
		if c.n > 1 {
			k2 := append([]float32(nil), k...)
			for g := 0; g < c.kvHeads; g++ {
				for j := c.p0 + 1; j < c.stride; j++ {
					for e := 0; e < c.headDim; e++ {
						k2[(g*c.stride+j)*c.headDim+e] += 5
					}
				}
			}
			base := make([]float32, c.n*d)
			CausalAttention(base, q, k, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, 2)
			got := make([]float32, c.n*d)
			CausalAttention(got, q, k2, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, 2)
			for e := 0; e < d; e++ {
				if got[e] != base[e] {
					t.Fatalf("%s: row 0 changed with later keys", name)
				}
			}
		}
	}
}

// TestCausalAttentionSingleKey: with one key, the output is its value exactly.
func TestCausalAttentionSingleKey(t *testing.T) {
	q := []float32{1, 2, 3, 4, -1, 0, 2, 1}
	k := []float32{0.5, 0.5, 0.5, 0.5}
	v := []float32{1, -2, 3.5, 7}
	out := make([]float32, 8)
	CausalAttention(out, q, k, v, 1, 0, 2, 1, 4, 1, 1)
	for h := 0; h < 2; h++ {
		for c := 0; c < 4; c++ {
			if out[h*4+c] != v[c] {
				t.Fatalf("head %d: %v, want %v", h, out[h*4:h*4+4], v)
			}
		}
	}
}

func TestCausalAttentionContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := make([]float32, 64*2*8)
	q := make([]float32, len(out))
	kv := make([]float32, 64*8)
	err := CausalAttentionContext(ctx, out, q, kv, kv, 64, 0, 2, 1, 8, 64, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: err = %v", err)
	}
	if err := CausalAttentionContext(context.Background(), out, q, kv, kv, 64, 0, 2, 1, 8, 64, 2); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCausalAttention: a 512-token prefill of the 2B shape (16 heads on 8 kv heads, hd 128).
func BenchmarkCausalAttention(b *testing.B) {
	const n, heads, kv, hd = 512, 16, 8, 128
	r := rand.New(rand.NewPCG(1, 2))
	q, k, v := randSlice(r, n*heads*hd), randSlice(r, kv*n*hd), randSlice(r, kv*n*hd)
	out := make([]float32, n*heads*hd)
	for b.Loop() {
		CausalAttention(out, q, k, v, n, 0, heads, kv, hd, n, 2)
	}
	flops := 4.0 * float64(n*(n+1)/2) * heads * hd
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
