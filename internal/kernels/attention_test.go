package kernels

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

const u32 = 0x1p-24 // unit roundoff of float32

func gamma(n int) float64 { return float64(n) * u32 / (1 - float64(n)*u32) }

// ulpErr returns |got − want| in units of the last place of want as a float32 (want > 0, normal).
func ulpErr(got float32, want float64) float64 {
	_, e := math.Frexp(want) // want = f·2^e, f ∈ [½, 1)
	ulp := math.Ldexp(1, e-24)
	return math.Abs(float64(got)-want) / ulp
}

// TestExp2Accuracy holds exp2 to 2 ulp of the float64 result over the whole range the softmax
// uses after subtracting the row maximum, x ∈ [−126, 0] (and on to 127): every step of 2⁻¹⁰ and
// random points, plus the clamping and flushing at the ends.
func TestExp2Accuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var xs []float32
	for x := -126.0; x <= 127; x += 1.0 / 1024 {
		xs = append(xs, float32(x))
	}
	for range 200000 {
		xs = append(xs, float32(-126*r.Float64()))
		xs = append(xs, float32(-r.ExpFloat64())) // many tiny arguments near 0
	}
	xs = append(xs, 0, -0.5, 0.5, -1e-30, 1e-30, -125.5, -126, -3, -2.75, -2.5) // and a ragged tail
	for _, impl := range impls {
		got := make([]float32, len(xs))
		impl.exp2(got, xs)
		worst, worstX := 0.0, float32(0)
		for i, x := range xs {
			if e := ulpErr(got[i], math.Exp2(float64(x))); e > worst {
				worst, worstX = e, x
			}
		}
		t.Logf("%s: max error %.3f ulp at x = %g over %d points", impl.name, worst, worstX, len(xs))
		if worst > 2 {
			t.Errorf("%s: exp2 error %.3f ulp at x = %g, want ≤ 2", impl.name, worst, worstX)
		}
		// Ends: −∞, anything below −127 and NaN give 0; 127 and more give 2^127.
		ends := []float32{float32(math.Inf(-1)), -1000, -127.0, -126.6, float32(math.NaN()), 127, 200, float32(math.Inf(1))}
		want := []float32{0, 0, 0, 0, 0, 0x1p127, 0x1p127, 0x1p127}
		ends, want = append(ends, ends[:5]...), append(want, want[:5]...) // vector and scalar paths
		got = make([]float32, len(ends))
		impl.exp2(got, ends)
		for i := range ends {
			if got[i] != want[i] {
				t.Errorf("%s: exp2(%g) = %g, want %g", impl.name, ends[i], got[i], want[i])
			}
		}
	}
}

// kernelSets are the attention kernels of every implementation this machine has (impls): always
// the Go twins, and the assembly where the build and the CPU have it.
func kernelSets() []*attnKernels {
	var sets []*attnKernels
	for _, im := range impls {
		sets = append(sets, &im.attn)
	}
	return sets
}

// TestAttentionKernels checks each micro-kernel on its own against float64 arithmetic, with the
// error bound of float32 accumulation (as in TestLinearForward).
func TestAttentionKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, k := range kernelSets() {
		t.Run(k.name, func(t *testing.T) {
			// Scores: k steps (head dims, odd ones, 1), 1–3 panels, a row stride with slack.
			for _, steps := range []int{1, 3, 5, 16, 64, 72, 80} {
				for _, panels := range []int{1, 2, 3} {
					ldc := panels*attnNR + 5
					a, b := randSlice(r, steps*attnMR), randSlice(r, panels*steps*attnNR)
					c := make([]float32, attnMR*ldc)
					for i := range c {
						c[i] = 42 // the gaps between rows must survive
					}
					k.scores(steps, a, b, c, ldc, panels)
					for i := 0; i < attnMR; i++ {
						for j := 0; j < ldc; j++ {
							if j >= panels*attnNR {
								if c[i*ldc+j] != 42 {
									t.Fatalf("scores k%d p%d: wrote outside the tile at [%d,%d]", steps, panels, i, j)
								}
								continue
							}
							var s, abs float64
							for p := 0; p < steps; p++ {
								x := float64(a[p*attnMR+i]) * float64(b[(j/attnNR)*steps*attnNR+p*attnNR+j%attnNR])
								s += x
								abs += math.Abs(x)
							}
							if d := math.Abs(float64(c[i*ldc+j]) - s); d > gamma(steps+1)*abs {
								t.Fatalf("scores k%d p%d [%d,%d] = %g, want %g", steps, panels, i, j, c[i*ldc+j], s)
							}
						}
					}
				}
			}
			// P·V: kb keys (multiples of 4 and not), panels, strides with slack.
			for _, kb := range []int{1, 3, 4, 16, 37, 256} {
				for _, panels := range []int{1, 2, 5} {
					ldp, vstride, ldo := kb+3, kb*attnNR+7, panels*attnNR+2
					p := randSlice(r, attnMR*ldp)
					v := randSlice(r, (panels-1)*vstride+kb*attnNR)
					o := randSlice(r, attnMR*ldo)
					alpha := randSlice(r, attnMR)
					o0 := append([]float32(nil), o...)
					k.pv(kb, p, ldp, v, vstride, o, ldo, panels, alpha)
					for i := 0; i < attnMR; i++ {
						for c := 0; c < ldo; c++ {
							if c >= panels*attnNR {
								if o[i*ldo+c] != o0[i*ldo+c] {
									t.Fatalf("pv kb%d p%d: wrote outside the tile at [%d,%d]", kb, panels, i, c)
								}
								continue
							}
							s := float64(alpha[i]) * float64(o0[i*ldo+c])
							abs := math.Abs(s)
							for j := 0; j < kb; j++ {
								x := float64(p[i*ldp+j]) * float64(v[(c/attnNR)*vstride+j*attnNR+c%attnNR])
								s += x
								abs += math.Abs(x)
							}
							if d := math.Abs(float64(o[i*ldo+c]) - s); d > gamma(kb+2)*abs {
								t.Fatalf("pv kb%d p%d [%d,%d] = %g, want %g", kb, panels, i, c, o[i*ldo+c], s)
							}
						}
					}
				}
			}
			// P·V on the 8-column panel.
			for _, kb := range []int{1, 2, 3, 5, 16, 37, 256} {
				ldp, ldo := kb+1, 8+3
				p, v := randSlice(r, attnMR*ldp), randSlice(r, kb*8)
				o, alpha := randSlice(r, attnMR*ldo), randSlice(r, attnMR)
				o0 := append([]float32(nil), o...)
				k.pv8(kb, p, ldp, v, o, ldo, alpha)
				for i := 0; i < attnMR; i++ {
					for c := 0; c < ldo; c++ {
						if c >= 8 {
							if o[i*ldo+c] != o0[i*ldo+c] {
								t.Fatalf("pv8 kb%d: wrote outside the tile at [%d,%d]", kb, i, c)
							}
							continue
						}
						s := float64(alpha[i]) * float64(o0[i*ldo+c])
						abs := math.Abs(s)
						for j := 0; j < kb; j++ {
							x := float64(p[i*ldp+j]) * float64(v[j*8+c])
							s += x
							abs += math.Abs(x)
						}
						if d := math.Abs(float64(o[i*ldo+c]) - s); d > gamma(kb+2)*abs {
							t.Fatalf("pv8 kb%d [%d,%d] = %g, want %g", kb, i, c, o[i*ldo+c], s)
						}
					}
				}
			}
			// Softmax steps on tiles of 8 … 256 keys, with −∞ entries (padding keys), a first
			// step (m = −∞) and later ones whose maximum is above or below the running one.
			for _, kb := range []int{8, 16, 24, 40, 56, 256} {
				ld := kb + 8
				negInf := float32(math.Inf(-1))
				m := [8]float32{negInf, negInf, negInf, negInf, negInf, negInf, 0, 0}
				for step := 0; step < 3; step++ {
					x := randSlice(r, attnMR*ld)
					for i := range x {
						x[i] *= 20
					}
					x[r.IntN(kb)] = negInf
					x[3*ld+kb-1] = negInf
					if step == 2 {
						for i := range x {
							x[i] -= 50 // below the running maximum: alpha = 1
						}
					}
					orig := append([]float32(nil), x...)
					m0 := m
					var alpha, sum [8]float32
					k.softmax(x, ld, kb, &m, &alpha, &sum)
					for i := 0; i < attnMR; i++ {
						want := m0[i]
						for _, v := range orig[i*ld : i*ld+kb] {
							want = max(want, v)
						}
						if m[i] != want {
							t.Fatalf("softmax kb%d step %d: m[%d] = %g, want %g", kb, step, i, m[i], want)
						}
						if e := math.Exp2(float64(m0[i]) - float64(want)); alpha[i] != float32(e) && (e < 0x1p-126 || ulpErr(alpha[i], e) > 2+math.Abs(float64(m0[i]-want))*math.Ln2) {
							t.Fatalf("softmax kb%d step %d: alpha[%d] = %g, want %g", kb, step, i, alpha[i], e)
						}
						var ws, wErr float64
						for j := 0; j < ld; j++ {
							v, got := orig[i*ld+j], x[i*ld+j]
							if j >= kb {
								if got != v {
									t.Fatalf("softmax kb%d: wrote past the row at [%d,%d]", kb, i, j)
								}
								continue
							}
							e := math.Exp2(float64(v) - float64(want))
							// v − m' rounds once in float32: allow that error in the argument.
							argErr := math.Abs(float64(v-want)-(float64(v)-float64(want))) * math.Ln2
							ws += e
							wErr += e * (4*u32 + 2*argErr)
							if e < 0x1p-126 {
								if got > 0x1p-125 {
									t.Fatalf("softmax kb%d [%d,%d] = %g, want %g", kb, i, j, got, e)
								}
							} else if ulpErr(got, e) > 2+argErr/0x1p-24 {
								t.Fatalf("softmax kb%d [%d,%d] = %g, want %g", kb, i, j, got, e)
							}
						}
						if d := math.Abs(float64(sum[i]) - ws); d > gamma(kb)*ws+wErr+0x1p-126*float64(kb) {
							t.Fatalf("softmax kb%d row %d: sum %g, want %g", kb, i, sum[i], ws)
						}
					}
				}
			}
		})
	}
}

// attnCase is one Attention input with its exact (float64) output and, per output, the bound on
// how far a float32 implementation may be from it.
type attnCase struct {
	n, heads, hd int
	segments     []int
	qkv          []float32
	exact        []float64
	bound        []float64 // for Attention
	refBound     []float64 // for AttentionRef
}

// newAttnCase draws q, k and v from N(0, σ²) and computes the exact output in float64 and the
// error bounds, derived as follows for query row i, output column c (u = 2⁻²⁴, γ(n) = nu/(1−nu)):
//
//   - Scores. The exact score is s_j = q·k_j/√d. Attention computes q' = fl(q·log₂e/√d) and the
//     dot products in float32, so in natural units its score is off by at most
//     e_j = γ(d+2)·Σ_p|q_p k_jp|/√d + 2u·|s_j| (the rounding of q', of the constant, and of the
//     d-term sum); AttentionRef's by γ(d+1)·Σ|q_p k_jp|/√d + u·|s_j|. With E = max_j e_j, each
//     softmax weight w_j = e^{s_j}/Σe^{s} is off by a factor in [e^{−2E}, e^{2E}].
//   - Exponentials: ≤ 2 ulp = 4u relative each (TestExp2Accuracy); Attention's sum l of a block
//     of ≤ attnBK values is float32 in 8 lanes (≤ 32 terms each, then a pairwise tree) and the
//     blocks are added in float64: γ(36) relative.
//   - The weighted sum of v: each term p_j·v_jc goes through ≤ attnBK float32 FMAs in its block,
//     then through one rescaling and one addition per later block: γ(attnBK + 2·blocks + 1)
//     relative to Σ_j p_j|v_jc|. AttentionRef accumulates in float64.
//   - The final division and rounding: 2u·|out|.
//
// So |Attention − exact| ≤ (e^{2E} − 1 + 4u + γ(36) + γ(attnBK + 2·blocks + 1))·Σ_j w_j|v_jc| +
// 2u·|out|, and likewise for AttentionRef with its own E and without the float32 sums.
func newAttnCase(r *rand.Rand, heads, hd int, segments []int, sigma float64) *attnCase {
	n := 0
	for _, s := range segments {
		n += s
	}
	d := heads * hd
	c := &attnCase{n: n, heads: heads, hd: hd, segments: segments, qkv: randSlice(r, n*3*d),
		exact: make([]float64, n*d), bound: make([]float64, n*d), refBound: make([]float64, n*d)}
	for i := range c.qkv {
		c.qkv[i] *= float32(sigma)
	}
	scale := 1 / math.Sqrt(float64(hd))
	start := 0
	for _, l := range segments {
		blocks := (l + attnBK - 1) / attnBK
		accErr := gamma(attnBK + 2*blocks + 1)
		s := make([]float64, l)
		w := make([]float64, l)
		for h := 0; h < heads; h++ {
			for i := 0; i < l; i++ {
				q := c.qkv[(start+i)*3*d+h*hd:][:hd]
				var eFast, eRef float64
				mx := math.Inf(-1)
				for j := 0; j < l; j++ {
					k := c.qkv[(start+j)*3*d+d+h*hd:][:hd]
					var dot, abs float64
					for p := range q {
						dot += float64(q[p]) * float64(k[p])
						abs += math.Abs(float64(q[p]) * float64(k[p]))
					}
					s[j] = dot * scale
					mx = max(mx, s[j])
					eFast = max(eFast, gamma(hd+2)*abs*scale+2*u32*math.Abs(s[j]))
					eRef = max(eRef, gamma(hd+1)*abs*scale+u32*math.Abs(s[j]))
				}
				var sum float64
				for j := range s {
					w[j] = math.Exp(s[j] - mx)
					sum += w[j]
				}
				for cc := 0; cc < hd; cc++ {
					var o, absO float64
					for j := 0; j < l; j++ {
						v := float64(c.qkv[(start+j)*3*d+2*d+h*hd+cc])
						o += w[j] / sum * v
						absO += w[j] / sum * math.Abs(v)
					}
					at := (start+i)*d + h*hd + cc
					c.exact[at] = o
					c.bound[at] = (math.Expm1(2*eFast)+4*u32+gamma(36)+accErr)*absO + 2*u32*math.Abs(o)
					c.refBound[at] = (math.Expm1(2*eRef)+gamma(4))*absO + 2*u32*math.Abs(o)
				}
			}
		}
		start += l
	}
	return c
}

// check compares got with the exact output within bound, and returns the largest error as a
// fraction of its bound.
func (c *attnCase) check(t *testing.T, what string, got []float32, bound []float64) float64 {
	t.Helper()
	worst := 0.0
	bad := 0
	for i, e := range c.exact {
		d := math.Abs(float64(got[i]) - e)
		if !(d <= bound[i]) {
			if bad++; bad <= 5 {
				t.Errorf("%s: out[%d, %d] = %g, want %g (|diff| %.3g > bound %.3g)", what, i/(c.heads*c.hd), i%(c.heads*c.hd), got[i], e, d, bound[i])
			}
		}
		if bound[i] > 0 {
			worst = max(worst, d/bound[i])
		}
	}
	if bad > 5 {
		t.Errorf("%s: ... %d of %d outputs wrong", what, bad, len(c.exact))
	}
	return worst
}

// TestAttention compares Attention, with each kernel set of this build and on 1–3 goroutines,
// with AttentionRef and both with the exact output, on single segments of lengths from 1 to
// past a key block and past attnSmall (so both schedules run), and on mixes of segments.
func TestAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	type shape struct {
		heads, hd int
		segments  []int
		sigma     float64
	}
	var shapes []shape
	for _, hd := range []int{16, 64, 72, 80} {
		for _, l := range []int{1, 2, 5, 17, 300} {
			shapes = append(shapes, shape{2, hd, []int{l}, 1})
		}
	}
	shapes = append(shapes,
		shape{1, 72, []int{1000}, 1},
		shape{1, 64, []int{1100}, 1.5},
		shape{3, 16, []int{1, 2, 5, 17}, 1},
		shape{2, 72, []int{300, 1, 17}, 1},
		shape{1, 80, []int{17, 600, 5, 2}, 1},
		shape{2, 64, []int{17, 17, 17, 17, 17, 17, 17, 17, 17, 17}, 1},
		shape{4, 8, []int{4, 4, 0, 6, 4}, 1},
		shape{2, 72, []int{257, 300}, 3}, // peaked softmax: scores spread over ±100
		shape{1, 20, []int{40}, 6},       // scores spread widely: flushed exponentials
	)
	if testing.Short() {
		shapes = shapes[:len(shapes)-5]
	}
	for _, s := range shapes {
		c := newAttnCase(r, s.heads, s.hd, s.segments, s.sigma)
		d := s.heads * s.hd
		ref := make([]float32, c.n*d)
		AttentionRef(ref, c.qkv, c.n, s.heads, s.hd, s.segments, 2)
		name := fmt.Sprintf("h%dx%d_seg%v_sigma%g", s.heads, s.hd, s.segments, s.sigma)
		c.check(t, name+"/ref", ref, c.refBound)
		for _, k := range kernelSets() {
			for _, threads := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/%s/t%d", name, k.name, threads), func(t *testing.T) {
					got := make([]float32, c.n*d+9)
					for i := range got {
						got[i] = float32(math.NaN())
					}
					attention(k, nil, got, c.qkv, c.n, s.heads, s.hd, s.segments, threads)
					for i, v := range got[c.n*d:] {
						if !math.IsNaN(float64(v)) {
							t.Fatalf("out[%d] past the output was written: %g", c.n*d+i, v)
						}
					}
					got = got[:c.n*d]
					worst := c.check(t, "Attention", got, c.bound)
					// Against AttentionRef: within the sum of both bounds.
					sum := make([]float64, len(c.bound))
					for i := range sum {
						sum[i] = c.bound[i] + c.refBound[i]
					}
					bad := 0
					for i := range got {
						if d := math.Abs(float64(got[i]) - float64(ref[i])); !(d <= sum[i]) {
							if bad++; bad <= 3 {
								t.Errorf("Attention vs AttentionRef: [%d] %g vs %g", i, got[i], ref[i])
							}
						}
					}
					if threads == 1 {
						t.Logf("worst error %.3g of the bound", worst)
					}
				})
			}
		}
	}
}

// TestAttentionPlan checks the schedule: which segments are shared out whole and which query
// block by query block.
func TestAttentionPlan(t *testing.T) {
	p := planAttention([]int{432}, 16, 64, 2, false)
	if len(p.small) != 1 || len(p.big) != 0 {
		t.Errorf("432 patches × 16 heads on 2 threads: small %v big %v, want one small", p.small, p.big)
	}
	p = planAttention([]int{300}, 1, 64, 2, false)
	if len(p.small) != 0 || len(p.big) != 1 {
		t.Errorf("one 300-row head on 2 threads: small %v big %v, want one big", p.small, p.big)
	}
	p = planAttention([]int{11008, 16, 16}, 16, 72, 2, false)
	if len(p.small) != 2 || len(p.big) != 1 || p.bigMax != 11008 || p.smallMax != 16 {
		t.Errorf("mixed: %+v", p)
	}
}

var attnHuge = flag.Bool("attn.huge", false, "run TestAttentionMemory's 65,536-row segment even with the portable kernels or -short")

// TestAttentionMemory checks that Attention's memory is O(segment · headDim), not O(segment²):
// the planned workspace for one segment of 65,536 rows is a few MiB (the scores alone would be
// 16 GiB), and a real call allocates no more than its plan says. The call is on one segment of
// 65,536 rows (1 head of 16: 275 GFLOP, seconds with the assembly kernels); with the portable
// kernels or -short, of 4,096 rows unless -attn.huge.
func TestAttentionMemory(t *testing.T) {
	for _, c := range []struct{ n, heads, hd, threads int }{
		{65536, 1, 16, 2}, {65536, 16, 72, 2}, {65536, 16, 72, 8},
	} {
		ws := attentionWorkspace([]int{c.n}, c.heads, c.hd, c.threads)
		// K and V panels of one head, plus per thread a Q block, an S tile and an O block.
		limit := 4*(c.n+attnNR)*(c.hd+valueWidth(c.hd)) + c.threads*4*(attnBQ*(2*c.hd+attnNR)+attnMR*attnBK)
		if ws > limit {
			t.Errorf("%+v: workspace %d bytes > %d", c, ws, limit)
		}
		t.Logf("%+v: workspace %.2f MiB (scores would take %.0f MiB)", c, float64(ws)/(1<<20), 4*float64(c.n)*float64(c.n)/(1<<20))
	}

	n, heads, hd := 65536, 1, 16
	if !*attnHuge && (avx2FMA == nil || testing.Short()) {
		n = 4096
	}
	r := rand.New(rand.NewPCG(17, 18))
	qkv := randSlice(r, n*3*heads*hd)
	out := make([]float32, n*heads*hd)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // empties the buffer pool
	runtime.ReadMemStats(&before)
	start := time.Now()
	Attention(out, qkv, n, heads, hd, []int{n}, 2)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	ws := attentionWorkspace([]int{n}, heads, hd, 2)
	t.Logf("n = %d: allocated %d bytes (workspace %d) in %v", n, alloc, ws, elapsed)
	if alloc > uint64(ws)+64<<10 {
		t.Errorf("n = %d: Attention allocated %d bytes, its plan says %d", n, alloc, ws)
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("out[%d] = %g", i, v)
		}
	}
}

// BenchmarkAttention reports GFLOP/s (4·L²·headDim per head and segment: Q·Kᵀ and P·V), by wall
// time and per CPU-second ("GFLOP/s-cpu", see BenchmarkLinear), and "%peak-cpu", the CPU rate
// as a percentage of PeakGFLOPS's, on the same number of goroutines, measured just before.
func BenchmarkAttention(b *testing.B) {
	for _, s := range []struct {
		name      string
		heads, hd int
		segments  []int
	}{
		{"4b-seed-432", 16, 64, []int{432}},
		{"8b-seed-432", 16, 72, []int{432}},
		{"11008-h2x72", 2, 72, []int{11008}},
		{"11008-h16x72", 16, 72, []int{11008}},
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
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, threads), func(b *testing.B) {
				peak := peakCPU(threads)
				Attention(out, qkv, n, s.heads, s.hd, s.segments, threads)
				cpu0 := processCPU()
				for b.Loop() {
					Attention(out, qkv, n, s.heads, s.hd, s.segments, threads)
				}
				reportRate(b, flop*float64(b.N), threads, cpu0, "GFLOP/s", peak)
			})
		}
	}
}

// BenchmarkAttentionKernels reports the score and P·V micro-kernels alone, on one thread, for a
// key block of 64 keys (in L1) and of attnBK keys (in L2), headDim 72 (P·V: four 16-column
// panels and one of 8), and the softmax (rowMax + expSubSum) in elements per second.
// "-cpu" metrics are per CPU-second of this process (see BenchmarkLinear).
func BenchmarkAttentionKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	const hd = 72
	hdv := valueWidth(hd) // 64 + 8
	for _, keys := range []int{64, attnBK} {
		q := randSlice(r, hd*attnMR)
		kp := randSlice(r, keys*hd)
		vp := randSlice(r, keys*hdv)
		s := randSlice(r, attnMR*keys)
		o := make([]float32, attnMR*hdv)
		alpha := []float32{1, 1, 1, 1, 1, 1}
		flop := 2 * attnMR * float64(keys) * hd
		for _, k := range kernelSets() {
			b.Run(fmt.Sprintf("scores/keys=%d/%s", keys, k.name), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					k.scores(hd, q, kp, s, keys, keys/attnNR)
				}
				reportRate(b, flop*float64(b.N), 1, cpu0, "GFLOP/s", 0)
			})
			b.Run(fmt.Sprintf("pv/keys=%d/%s", keys, k.name), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					k.pv(keys, s, keys, vp, keys*attnNR, o, hdv, hdv/attnNR, alpha)
					k.pv8(keys, s, keys, vp[(hdv-8)*keys:], o[hdv-8:], hdv, alpha)
				}
				reportRate(b, flop*float64(b.N), 1, cpu0, "GFLOP/s", 0)
			})
			b.Run(fmt.Sprintf("softmax/keys=%d/%s", keys, k.name), func(b *testing.B) {
				var m, alpha, sum [8]float32
				cpu0 := processCPU()
				for b.Loop() {
					k.softmax(s, keys, keys, &m, &alpha, &sum)
					m = [8]float32{} // the next step sees values ≤ 1 below a maximum of 0
				}
				reportRate(b, attnMR*float64(keys)*float64(b.N), 1, cpu0, "Gelem/s", 0)
			})
		}
	}
}

// peakCPU returns PeakGFLOPS(threads) per CPU-second of this process times threads: the peak
// while the goroutines actually run, comparable with the "-cpu" rates on a loaded machine.
func peakCPU(threads int) float64 {
	cpu0, start := processCPU(), time.Now()
	g := PeakGFLOPS(threads, 200*time.Millisecond)
	cpu := processCPU() - cpu0
	if cpu <= 0 {
		return g
	}
	return g * time.Since(start).Seconds() / cpu.Seconds() * float64(threads)
}

// reportRate reports work/1e9 per second of wall time as unit, and per CPU-second of this
// process times threads as unit+"-cpu"; with peak > 0 also the CPU rate as a percentage of it.
func reportRate(b *testing.B, work float64, threads int, cpu0 time.Duration, unit string, peak float64) {
	cpu := processCPU() - cpu0
	b.ReportMetric(work/b.Elapsed().Seconds()/1e9, unit)
	if cpu > 0 {
		g := work / cpu.Seconds() / 1e9 * float64(threads)
		b.ReportMetric(g, unit+"-cpu")
		if peak > 0 {
			b.ReportMetric(100*g/peak, "%peak-cpu")
		}
	}
}

// TestAttentionSegmentInvariance checks that a segment's output does not depend on the other
// segments of the call nor on the number of goroutines (which change the schedule: whole
// (segment, head) pairs per goroutine or shared query blocks): each segment computed alone on
// one goroutine gives the same bits as in the batch. The server relies on this to batch
// requests.
func TestAttentionSegmentInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, k := range kernelSets() {
		for _, c := range []struct {
			heads, hd int
			segments  []int
		}{
			{2, 72, []int{300, 5, 1100, 17}},
			{3, 64, []int{40, 40, 1, 200}},
		} {
			n := 0
			for _, s := range c.segments {
				n += s
			}
			d := c.heads * c.hd
			qkv := randSlice(r, n*3*d)
			for _, threads := range []int{2, 3} {
				all := make([]float32, n*d)
				attention(k, nil, all, qkv, n, c.heads, c.hd, c.segments, threads)
				start := 0
				for _, s := range c.segments {
					alone := make([]float32, s*d)
					attention(k, nil, alone, qkv[start*3*d:(start+s)*3*d], s, c.heads, c.hd, []int{s}, 1)
					for i, v := range alone {
						if math.Float32bits(v) != math.Float32bits(all[start*d+i]) {
							t.Fatalf("%s %v t%d: segment at %d alone differs from the batch at %d: %g vs %g",
								k.name, c.segments, threads, start, i, v, all[start*d+i])
						}
					}
					start += s
				}
			}
		}
	}
}
