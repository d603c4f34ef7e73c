package kernels

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
)

// CausalAttention is a decoder's self-attention over a KV cache, with grouped-query attention:
// n query rows at positions p0 … p0+n−1 each attend to the keys and values at positions 0 up to
// and including their own.
//
//	q    [n, heads·headDim]            rows in position order, head h at columns [h·headDim, (h+1)·headDim)
//	k, v [kvHeads, stride, headDim]    the cache: kv head g's position j at (g·stride + j)·headDim;
//	                                   positions [0, p0+n) must be filled (p0+n ≤ stride)
//	out  [n, heads·headDim]            laid out as q
//
// Query head h reads kv head h / (heads/kvHeads) (heads must be a multiple of kvHeads). For
// query row i, out = softmax(q·kᵀ/√headDim)·v over keys 0 … p0+i: scores are float32 dot
// products (four chains) times the float32 scale, the softmax in float32 after subtracting the
// row maximum (exponentials from math.Exp), its normalised weights times v summed in float32,
// as PyTorch's eager attention computes softmax(…, dtype=float32) @ v. Fewer than
// causalGEMMRows query rows (a decode step) run as tasks of one head and a block of rows, dot
// products in four float32 chains; more (a prefill) compute the scores and the weighted values
// as matrix products on the Linear kernels (causalAttentionGEMM), whose float32 sums run in
// another order and whose exponentials are exp2 of the scores in base-2 units (as Attention's,
// within 2 ulp), all within the bound TestCausalAttention states. CausalAttentionRef is the float64
// reference.
func CausalAttention(out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) {
	_ = causalAttention(nil, out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads, nil)
}

// CausalAttentionContext is CausalAttention, stopped when ctx is done: ctx is checked before each
// task (a head and up to causalBQ query rows), and once it is done no further task starts; it
// then returns ctx.Err() when the running tasks have finished, out partly computed.
func CausalAttentionContext(ctx context.Context, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) error {
	return CausalAttentionObserve(ctx, out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads, nil)
}

// Weights observes the attention probabilities of CausalAttentionObserve: query row i (0 … n−1)
// of head h gave weight w[j] to key position j, for j = 0 … p0+i (len(w) = p0+i+1; Σ w = 1 to
// float32 rounding). They are the very weights the output was made with: the loop's e_j / Σe
// multiplied into v, or the matrix-product path's normalised row of P before P·V. It is called
// from the worker goroutines, concurrently for distinct (i, h), each pair once; w is the
// kernel's scratch, valid only during the call (copy what you keep, do not modify it).
type Weights func(i, h int, w []float32)

// CausalAttentionObserve is CausalAttentionContext that also hands every query row's weights
// to observe (nil: none, at the cost of one nil check per row and head). The output is the
// same, bit for bit, with or without an observer.
func CausalAttentionObserve(ctx context.Context, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int, observe Weights) error {
	if causalAttention(ctx.Done(), out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads, observe) {
		return nil
	}
	return ctx.Err()
}

// causalBQ is the number of query rows of one CausalAttention task.
const causalBQ = 16

func checkCausal(name string, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride int) {
	switch {
	case n < 0 || p0 < 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0:
		panic(fmt.Sprintf("kernels: %s: n %d, p0 %d, heads %d, kvHeads %d, headDim %d", name, n, p0, heads, kvHeads, headDim))
	case p0+n > stride:
		panic(fmt.Sprintf("kernels: %s: positions up to %d do not fit a cache of %d", name, p0+n, stride))
	case len(q) < n*heads*headDim || len(out) < n*heads*headDim ||
		len(k) < kvHeads*stride*headDim || len(v) < kvHeads*stride*headDim:
		panic(fmt.Sprintf("kernels: %s: buffers too small", name))
	}
}

func causalAttention(done <-chan struct{}, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int, observe Weights) bool {
	checkCausal("CausalAttention", out, q, k, v, n, p0, heads, kvHeads, headDim, stride)
	if n >= causalGEMMRows {
		return causalAttentionGEMM(done, out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads, observe)
	}
	blocks := (n + causalBQ - 1) / causalBQ
	group := heads / kvHeads
	d := heads * headDim
	scale := float32(1 / math.Sqrt(float64(headDim)))
	workers := max(threads, 1)
	scores := make([][]float32, workers)
	acc := make([][]float32, workers)
	return runTasks(heads*blocks, workers, done, func(w, t int) {
		h, b := t/blocks, t%blocks
		if scores[w] == nil {
			scores[w] = make([]float32, p0+n)
			acc[w] = make([]float32, headDim)
		}
		kh := k[(h/group)*stride*headDim:]
		vh := v[(h/group)*stride*headDim:]
		for i := b * causalBQ; i < min((b+1)*causalBQ, n); i++ {
			qi := q[i*d+h*headDim : i*d+(h+1)*headDim]
			keys := p0 + i + 1
			s := scores[w][:keys]
			m := float32(math.Inf(-1))
			for j := range s {
				s[j] = dot(qi, kh[j*headDim:(j+1)*headDim]) * scale
				m = max(m, s[j])
			}
			var sum float32
			for j, x := range s {
				e := float32(math.Exp(float64(x - m)))
				s[j] = e
				sum += e
			}
			a := acc[w]
			clear(a)
			if observe != nil { // the same weights, e/sum, kept for the observer
				for j, e := range s {
					s[j] = e / sum
				}
				observe(i, h, s)
				for j, p := range s {
					vj := vh[j*headDim : (j+1)*headDim]
					for c, x := range vj {
						a[c] += p * x
					}
				}
				copy(out[i*d+h*headDim:], a)
				continue
			}
			for j, e := range s {
				p := e / sum
				vj := vh[j*headDim : (j+1)*headDim]
				for c, x := range vj {
					a[c] += p * x
				}
			}
			copy(out[i*d+h*headDim:], a)
		}
	})
}

// CausalAttentionRef is the reference for CausalAttention: the same arguments and result, every
// score, exponential and sum in float64, rounded once, one query row at a time on one goroutine
// (threads is ignored).
func CausalAttentionRef(out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) {
	checkCausal("CausalAttentionRef", out, q, k, v, n, p0, heads, kvHeads, headDim, stride)
	group := heads / kvHeads
	d := heads * headDim
	scale := 1 / math.Sqrt(float64(headDim))
	s := make([]float64, p0+n)
	a := make([]float64, headDim)
	for i := 0; i < n; i++ {
		for h := 0; h < heads; h++ {
			g := h / group
			qi := q[i*d+h*headDim : i*d+(h+1)*headDim]
			m := math.Inf(-1)
			for j := 0; j <= p0+i; j++ {
				kj := k[(g*stride+j)*headDim : (g*stride+j+1)*headDim]
				var dp float64
				for c := range qi {
					dp += float64(qi[c]) * float64(kj[c])
				}
				s[j] = dp * scale
				m = max(m, s[j])
			}
			var sum float64
			for j := 0; j <= p0+i; j++ {
				s[j] = math.Exp(s[j] - m)
				sum += s[j]
			}
			clear(a)
			for j := 0; j <= p0+i; j++ {
				vj := v[(g*stride+j)*headDim : (g*stride+j+1)*headDim]
				for c := range a {
					a[c] += s[j] / sum * float64(vj[c])
				}
			}
			for c := range a {
				out[i*d+h*headDim+c] = float32(a[c])
			}
		}
	}
}

// causalGEMMRows is the number of query rows from which CausalAttention computes the scores and
// the weighted values as matrix products (causalAttentionGEMM); fewer rows (a decode step) take
// the row-by-row loop, which reads each key once.
const causalGEMMRows = 32

// causalGEMMBlock is the number of query rows of one block of causalAttentionGEMM: its scores
// are a causalGEMMBlock × keys matrix.
const causalGEMMBlock = 256

// causalAttentionGEMM is CausalAttention for many query rows, with the products on the GEMM of
// the active implementation: for each kv head g, Linears are packed from K_g [keys, hd] and
// V_gᵀ [hd, keys]; for each of its query heads and block of query rows, S = Q·K_gᵀ (one
// Forward), then per row the scaled, masked float32 softmax as in the loop, then O = P·V_g (one
// Forward; the masked weights are zeros). The kv heads are tasks, each on one goroutine, when
// there are at least as many as threads; otherwise they run one after the other, each product
// on all threads. Either way every value is computed in the same order, so the result does not
// depend on threads. Memory is O(causalGEMMBlock · keys) per goroutine.
func causalAttentionGEMM(done <-chan struct{}, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int, observe Weights) bool {
	workers := max(threads, 1)
	if kvHeads < workers {
		sc := newCausalScratch(n, p0+n, headDim)
		for g := 0; g < kvHeads; g++ {
			if closed(done) || !sc.head(done, out, q, k, v, g, n, p0, heads, kvHeads, headDim, stride, workers, observe) {
				return false
			}
		}
		return true
	}
	scratch := make([]*causalScratch, workers)
	var cut atomic.Bool
	ran := runTasks(kvHeads, workers, done, func(w, g int) {
		if scratch[w] == nil {
			scratch[w] = newCausalScratch(n, p0+n, headDim)
		}
		if !scratch[w].head(done, out, q, k, v, g, n, p0, heads, kvHeads, headDim, stride, 1, observe) {
			cut.Store(true)
		}
	})
	return ran && !cut.Load()
}

// causalScratch is one goroutine's buffers for causalAttentionGEMM: a block of query rows of
// one head [bq, hd], its scores [bq, keys], its output [bq, hd] and V_gᵀ [hd, keys].
type causalScratch struct {
	qh, s, o, vt []float32
}

func newCausalScratch(n, keys, headDim int) *causalScratch {
	bq := min(causalGEMMBlock, n)
	return &causalScratch{
		qh: make([]float32, bq*headDim),
		s:  make([]float32, bq*keys),
		o:  make([]float32, bq*headDim),
		vt: make([]float32, headDim*keys),
	}
}

// head computes the query heads of kv head g (causalAttentionGEMM's body for one g), its
// products on threads goroutines; false if done stopped it. observe, when not nil, sees each
// row's normalised weights before P·V.
func (sc *causalScratch) head(done <-chan struct{}, out, q, k, v []float32, g, n, p0, heads, kvHeads, headDim, stride, threads int, observe Weights) bool {
	keys := p0 + n
	group := heads / kvHeads
	d := heads * headDim
	// The scores in base-2 units: 2^(x·scale2 − m) = e^(x/√headDim − m·ln 2).
	scale2 := float32(math.Log2E / math.Sqrt(float64(headDim)))
	bq := min(causalGEMMBlock, n)
	qh, s, o, vt := sc.qh, sc.s, sc.o, sc.vt
	kl, err := newLinear(active, k[g*stride*headDim:(g*stride+keys)*headDim], nil, keys, headDim)
	if err != nil {
		panic(err) // the shapes were checked
	}
	vg := v[g*stride*headDim:]
	for j := 0; j < keys; j++ {
		for c := 0; c < headDim; c++ {
			vt[c*keys+j] = vg[j*headDim+c]
		}
	}
	vl, err := newLinear(active, vt, nil, headDim, keys)
	if err != nil {
		panic(err)
	}
	for h := g * group; h < (g+1)*group; h++ {
		for r0 := 0; r0 < n; r0 += bq {
			rows := min(bq, n-r0)
			for i := 0; i < rows; i++ {
				copy(qh[i*headDim:(i+1)*headDim], q[(r0+i)*d+h*headDim:])
			}
			if !kl.g.forward(s, qh, rows, threads, false, done) {
				return false
			}
			parallelFor(rows, threads, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					row := s[i*keys : (i+1)*keys]
					last := p0 + r0 + i // the last key this query sees
					seen := row[:last+1]
					m := float32(math.Inf(-1))
					for j, x := range seen {
						seen[j] = x * scale2
						m = max(m, seen[j])
					}
					for j, x := range seen {
						seen[j] = x - m
					}
					active.exp2(seen, seen)
					var sum float32
					for _, e := range seen {
						sum += e
					}
					for j := range seen {
						seen[j] /= sum
					}
					if observe != nil {
						observe(r0+i, h, seen)
					}
					clear(row[last+1:])
				}
			})
			if !vl.g.forward(o, s, rows, threads, false, done) {
				return false
			}
			for i := 0; i < rows; i++ {
				copy(out[(r0+i)*d+h*headDim:(r0+i)*d+(h+1)*headDim], o[i*headDim:(i+1)*headDim])
			}
		}
	}
	return true
}
