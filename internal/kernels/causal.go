package kernels

import (
	"context"
	"fmt"
	"math"
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
// as PyTorch's eager attention computes softmax(…, dtype=float32) @ v. The work runs as tasks of
// one head and a block of query rows; CausalAttentionRef is the float64 reference.
func CausalAttention(out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) {
	_ = causalAttention(nil, out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads)
}

// CausalAttentionContext is CausalAttention, stopped when ctx is done: ctx is checked before each
// task (a head and up to causalBQ query rows), and once it is done no further task starts; it
// then returns ctx.Err() when the running tasks have finished, out partly computed.
func CausalAttentionContext(ctx context.Context, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) error {
	if causalAttention(ctx.Done(), out, q, k, v, n, p0, heads, kvHeads, headDim, stride, threads) {
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

func causalAttention(done <-chan struct{}, out, q, k, v []float32, n, p0, heads, kvHeads, headDim, stride, threads int) bool {
	checkCausal("CausalAttention", out, q, k, v, n, p0, heads, kvHeads, headDim, stride)
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
