package kernels

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const ubf16 = 0x1p-9 // unit roundoff of bfloat16 (8-bit significand), round to nearest

// bf16Shapes are AttentionBF16's test shapes: the towers' headDims (64, 72), 80, 16, odd and
// small ones (40, 33, 1), segment lengths from 1 to past a key block, and mixes of segments.
func bf16Shapes() []struct {
	heads, hd int
	segments  []int
} {
	type shape = struct {
		heads, hd int
		segments  []int
	}
	var s []shape
	for _, hd := range []int{64, 72, 80, 16, 40, 33, 1} {
		for _, l := range []int{1, 2, 7, 17, 300} {
			s = append(s, shape{2, hd, []int{l}})
		}
	}
	s = append(s, shape{3, 72, []int{5, 0, 260, 1, 40}}, shape{1, 64, []int{600}})
	return s
}

// TestAttentionBF16Ref compares AttentionBF16 (1–2 goroutines) with attentionBF16Ref.
//
// The scores of the two are bit-identical (same rounded q̃, k̃, same dpbf16Ref steps in the same
// order), so their maxima agree and only three things differ: (1) the tiled kernel rounds P at
// the running maximum m' of each block, P̃ = RNE(2^(s−m')), and rescales O by α later, while the
// reference rounds w = 2^(s−m) at the final maximum; each is within ubf16 of its exact value,
// and exp2Go adds 2 ulp (2⁻²²) per exponential, one per key and one α per block (B blocks),
// while each rescale O·α rounds once (u per block); so each term of Σ P̃ṽ differs relatively by
// at most 2·ubf16 + 2⁻²²·(2B+2) + B·u, to first order; (2) the kernel accumulates O in float32:
// each block's products from zero, one rounding per key, and that sum added to O, one rounding
// per block, so L + B roundings in all (γ(L+B) of Σ P̃|ṽ|), the reference in float64; (3) l:
// the kernel sums P in 8 float32 lanes per block then in float64 (γ(attnBK/8+3)), the reference
// in float64, and the final division rounds to float32 (u·|out|). With Σ P̃|ṽ|/l ≤
// (1+ubf16)·absOut this gives the bound below; the (1+ubf16)² factor covers the second-order
// terms.
func TestAttentionBF16Ref(t *testing.T) {
	r := rand.New(rand.NewPCG(201, 202))
	for _, s := range bf16Shapes() {
		n := 0
		for _, l := range s.segments {
			n += l
		}
		maxL := 0
		for _, l := range s.segments {
			maxL = max(maxL, l)
		}
		blocks := float64((maxL + attnBK - 1) / attnBK)
		d := s.heads * s.hd
		qkv := randSlice(r, n*3*d)
		for i := range qkv {
			qkv[i] *= 2
		}
		want := make([]float32, n*d)
		abs := attentionBF16Ref(want, qkv, n, s.heads, s.hd, s.segments)
		rel := (2*ubf16 + 0x1p-22*(2*blocks+2) + blocks*u32 + gamma(maxL+int(blocks)) + gamma(attnBK/8+3)) * (1 + ubf16) * (1 + ubf16)
		for _, threads := range []int{1, 2} {
			got := make([]float32, n*d)
			AttentionBF16(got, qkv, n, s.heads, s.hd, s.segments, threads)
			worst, bad := 0.0, 0
			for i := range want {
				bound := rel*abs[i] + u32*math.Abs(float64(want[i]))
				e := math.Abs(float64(got[i]) - float64(want[i]))
				if !(e <= bound) {
					if bad++; bad <= 5 {
						t.Errorf("heads %d hd %d segments %v threads %d: out[%d] = %g, ref %g (|diff| %.3g > %.3g)",
							s.heads, s.hd, s.segments, threads, i, got[i], want[i], e, bound)
					}
				}
				if bound > 0 {
					worst = max(worst, e/bound)
				}
			}
			if threads == 1 && s.hd == 72 {
				t.Logf("hd %d segments %v: worst error %.3f of bound", s.hd, s.segments, worst)
			}
		}
	}
}

// TestAttentionBF16Kernels: the assembly tile and packer give, bit for bit, what the portable
// Go tile and packer give, on every shape, 1–2 goroutines, with normal inputs and with inputs
// holding zeros, subnormals, infinities and NaNs.
func TestAttentionBF16Kernels(t *testing.T) {
	if bf16TileAsm == nil {
		t.Skip("no AVX512_BF16 assembly on this machine or build: only the portable kernels run")
	}
	goKernels := bf16AttnKernels(nil, nil, nil)
	r := rand.New(rand.NewPCG(211, 212))
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-39, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, s := range bf16Shapes() {
		n := 0
		for _, l := range s.segments {
			n += l
		}
		d := s.heads * s.hd
		for _, kind := range []string{"normal", "special"} {
			qkv := randSlice(r, n*3*d)
			for i := range qkv {
				qkv[i] *= 3
				if kind == "special" && r.IntN(50) == 0 {
					qkv[i] = specials[r.IntN(len(specials))]
				}
			}
			for _, threads := range []int{1, 2} {
				want, got := make([]float32, n*d), make([]float32, n*d)
				attention(&goKernels, nil, want, qkv, n, s.heads, s.hd, s.segments, threads)
				AttentionBF16(got, qkv, n, s.heads, s.hd, s.segments, threads)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("heads %d hd %d segments %v %s threads %d: out[%d] = %g (%#08x) with the assembly, %g (%#08x) in Go",
							s.heads, s.hd, s.segments, kind, threads, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}

// TestAttentionBF16Exact compares AttentionBF16 with the exact (float64) attention of the
// float32 inputs within bfloat16-level error. Rounding q and k to bfloat16 perturbs each
// product q_p·k_p by at most (1+ubf16)²−1, the float32 accumulation adds γ(hd) of Σ|q_p k_p|,
// and the scaling (the float32 constant log₂e/√hd, then the rounded product) 2u|s_j|: each
// base-2 score s_j moves by at most δ = (2ubf16 + ubf16² + u + γ(hd+1))·Σ|q_p k_jp|·log₂e/√hd
// + 2u|s_j| (the u and γ(hd+1) leave a margin over γ(hd)). The normalised weights 2^s_j/Σ2^s then change
// by a factor within exp(±2·ln2·δmax); rounding P and V to bfloat16 adds 2ubf16 per term, and the
// float32 accumulation and the online rescaling (see TestAttentionBF16Ref) the rest, all
// relative to Σ w_j|v_j| (w the exact weights).
func TestAttentionBF16Exact(t *testing.T) {
	r := rand.New(rand.NewPCG(203, 204))
	for _, s := range bf16Shapes() {
		n := 0
		for _, l := range s.segments {
			n += l
		}
		d := s.heads * s.hd
		qkv := randSlice(r, n*3*d)
		got := make([]float32, n*d)
		AttentionBF16(got, qkv, n, s.heads, s.hd, s.segments, 2)
		scale := math.Log2E / math.Sqrt(float64(s.hd))
		start := 0
		for _, l := range s.segments {
			blocks := float64((l + attnBK - 1) / attnBK)
			acc := (2*ubf16+ubf16*ubf16)*(1+ubf16) + 0x1p-22*(2*blocks+2) + blocks*u32 + gamma(l+int(blocks)) + gamma(attnBK/8+3)
			sc := make([]float64, l)
			w := make([]float64, l)
			for h := 0; h < s.heads; h++ {
				for i := 0; i < l; i++ {
					q := qkv[(start+i)*3*d+h*s.hd:][:s.hd]
					mx, delta := math.Inf(-1), 0.0
					for j := 0; j < l; j++ {
						k := qkv[(start+j)*3*d+d+h*s.hd:][:s.hd]
						var dot, ab float64
						for p := range q {
							dot += float64(q[p]) * float64(k[p])
							ab += math.Abs(float64(q[p]) * float64(k[p]))
						}
						sc[j] = dot * scale
						mx = max(mx, sc[j])
						delta = max(delta, (2*ubf16+ubf16*ubf16+u32+gamma(s.hd+1))*ab*scale+2*u32*math.Abs(sc[j]))
					}
					var sum float64
					for j := range sc {
						w[j] = math.Exp2(sc[j] - mx)
						sum += w[j]
					}
					rel := math.Expm1(2*math.Ln2*delta)*(1+acc) + acc
					for c := 0; c < s.hd; c++ {
						var o, ao float64
						for j := 0; j < l; j++ {
							v := float64(qkv[(start+j)*3*d+2*d+h*s.hd+c])
							o += w[j] / sum * v
							ao += w[j] / sum * math.Abs(v)
						}
						at := (start+i)*d + h*s.hd + c
						bound := rel*ao + 2*u32*math.Abs(o)
						if e := math.Abs(float64(got[at]) - o); !(e <= bound) {
							t.Fatalf("heads %d hd %d segments %v: out[%d] = %g, exact %g (|diff| %.3g > %.3g)",
								s.heads, s.hd, s.segments, at, got[at], o, e, bound)
						}
					}
				}
			}
			start += l
		}
	}
}

// TestAttentionBF16Rounds: AttentionBF16 is not Attention: on inputs whose low mantissa bits
// matter its results differ from the float32 path's, and on inputs exactly representable in
// bfloat16 with scores that are too (q·scale rounded the same way) it equals its reference.
func TestAttentionBF16Rounds(t *testing.T) {
	r := rand.New(rand.NewPCG(205, 206))
	const n, heads, hd = 40, 2, 64
	qkv := randSlice(r, n*3*heads*hd)
	a, b := make([]float32, n*heads*hd), make([]float32, n*heads*hd)
	Attention(a, qkv, n, heads, hd, []int{n}, 1)
	AttentionBF16(b, qkv, n, heads, hd, []int{n}, 1)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same > len(a)/2 {
		t.Errorf("%d of %d outputs equal to the float32 path's: bf16 rounding not applied?", same, len(a))
	}
}

// TestAttentionBF16NaN: a NaN or ±Inf in one key or one value gives NaNs in exactly the outputs
// where the float32 path gives them, and none outside its segment and head.
func TestAttentionBF16NaN(t *testing.T) {
	r := rand.New(rand.NewPCG(207, 208))
	const heads, hd = 2, 64
	segments := []int{30, 50}
	n := 80
	d := heads * hd
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, part := range []int{0, 1, 2} { // q, k, v of row 40 (second segment), head 1
			qkv := randSlice(r, n*3*d)
			qkv[40*3*d+part*d+hd+3] = bad
			a, b := make([]float32, n*d), make([]float32, n*d)
			Attention(a, qkv, n, heads, hd, segments, 1)
			AttentionBF16(b, qkv, n, heads, hd, segments, 1)
			nans := 0
			for i := range a {
				row, col := i/d, i%d
				na, nb := math.IsNaN(float64(a[i])), math.IsNaN(float64(b[i]))
				if na != nb || (nb && (row < 30 || col < hd)) {
					t.Fatalf("%g in part %d: out[%d, %d] = %g (float32 path %g)", bad, part, row, col, b[i], a[i])
				}
				if nb {
					nans++
				}
			}
			t.Logf("%g in part %d: %d NaN outputs in both", bad, part, nans)
		}
	}
}

// TestAttentionBF16Context mirrors TestAttentionContext, and checks a task stops part-way.
func TestAttentionBF16Context(t *testing.T) {
	r := rand.New(rand.NewPCG(209, 210))
	const n, heads, hd = 300, 2, 64
	qkv := randSlice(r, n*3*heads*hd)
	want, got := make([]float32, n*heads*hd), make([]float32, n*heads*hd)
	AttentionBF16(want, qkv, n, heads, hd, []int{n}, 2)
	if err := AttentionBF16Context(context.Background(), got, qkv, n, heads, hd, []int{n}, 2); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("[%d] AttentionBF16Context %g, AttentionBF16 %g", i, got[i], want[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range got {
		got[i] = float32(math.NaN())
	}
	if err := AttentionBF16Context(ctx, got, qkv, n, heads, hd, []int{n}, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for i, v := range got {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("out[%d] = %g written by a call whose context was already done", i, v)
		}
	}
	// Cancelled inside the first task: nothing further is written.
	segments := []int{600, 600}
	const m = 1200
	qkv = randSlice(r, m*3*4*hd)
	out := make([]float32, m*4*hd)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	ctx, cancel = context.WithCancel(context.Background())
	tasks := countTasks(func() {
		if attention(&bf16Attn, ctx.Done(), out, qkv, m, 4, hd, segments, 1) {
			t.Errorf("attention reports it finished")
		}
	}, func(int64) { cancel() })
	cancel()
	if tasks != 1 {
		t.Errorf("%d tasks started, want 1", tasks)
	}
	for i, v := range out {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("out[%d] = %g was written after the cancellation", i, v)
		}
	}
}

// BenchmarkAttentionBF16 is BenchmarkAttention's measurement for AttentionBF16 and, beside it,
// Attention, at the vision towers' shapes: GFLOP/s counting 4·L²·headDim·heads per segment.
// n=4096 is skipped under -short (the portable bf16 kernel takes minutes there).
func BenchmarkAttentionBF16(b *testing.B) {
	for _, s := range []struct {
		name      string
		heads, hd int
		segments  []int
	}{
		{"4b-seed-432", 16, 64, []int{432}},
		{"8b-seed-432", 16, 72, []int{432}},
		{"4096-h16x64", 16, 64, []int{4096}},
	} {
		n := 0
		var flop float64
		for _, l := range s.segments {
			n += l
			flop += 4 * float64(l) * float64(l) * float64(s.hd) * float64(s.heads)
		}
		r := rand.New(rand.NewPCG(19, 20))
		qkv := randSlice(r, n*3*s.heads*s.hd)
		out := make([]float32, n*s.heads*s.hd)
		for _, kern := range []struct {
			name string
			f    func(out, qkv []float32, n, heads, headDim int, segments []int, threads int)
		}{{"f32", Attention}, {"bf16", AttentionBF16}} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, kern.name, threads), func(b *testing.B) {
					if testing.Short() && n > 1000 && kern.name == "bf16" {
						b.Skip("slow portable kernel")
					}
					peak := peakCPU(threads)
					cpu0 := processCPU()
					for b.Loop() {
						kern.f(out, qkv, n, s.heads, s.hd, s.segments, threads)
					}
					reportRate(b, flop*float64(b.N), threads, cpu0, "GFLOP/s", peak)
				})
			}
		}
	}
}
