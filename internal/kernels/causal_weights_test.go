package kernels

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// causalWeightsRef is the slow, obvious softmax of query row i, head h of CausalAttention's
// arguments, in float64: w_j = exp(s_j − max s) / Σ exp(s − max s), s_j = q·k_j/√headDim, over
// keys 0 … p0+i.
func causalWeightsRef(q, k []float32, i, h, p0, heads, kvHeads, headDim, stride int) []float64 {
	g := h / (heads / kvHeads)
	qi := q[i*heads*headDim+h*headDim:][:headDim]
	s := make([]float64, p0+i+1)
	m := math.Inf(-1)
	for j := range s {
		kj := k[(g*stride+j)*headDim:][:headDim]
		for c := range qi {
			s[j] += float64(qi[c]) * float64(kj[c])
		}
		s[j] /= math.Sqrt(float64(headDim))
		m = max(m, s[j])
	}
	var sum float64
	for j := range s {
		s[j] = math.Exp(s[j] - m)
		sum += s[j]
	}
	for j := range s {
		s[j] /= sum
	}
	return s
}

// TestCausalAttentionObserve: on both paths (the row loop below causalGEMMRows rows, the
// matrix products from there), the observer sees every (row, head) once, with p0+i+1 weights
// that sum to 1 and match the float64 softmax (within the bound of TestCausalAttention's
// scores, carried through exp and the normalisation); the output is bit for bit the output
// without an observer, and it is Σ_j w_j·v_j of the weights observed, to float32 rounding
// ((keys+2)·2⁻²³·Σ|w_j·v_j|, any summation order): they are the weights the output was made
// with.
func TestCausalAttentionObserve(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ n, p0, heads, kvHeads, headDim, stride int }{
		{1, 0, 2, 1, 8, 1},
		{1, 40, 4, 2, 64, 48},   // a decode step after a prompt
		{17, 3, 4, 1, 16, 20},   // two query blocks of the loop
		{40, 0, 4, 2, 32, 40},   // the matrix-product path
		{64, 30, 8, 4, 16, 100}, // after cached positions
	} {
		name := fmt.Sprintf("%+v", c)
		d := c.heads * c.headDim
		q := randSlice(r, c.n*d)
		k := randSlice(r, c.kvHeads*c.stride*c.headDim)
		v := randSlice(r, c.kvHeads*c.stride*c.headDim)
		for i := range q {
			q[i] *= 3
		}
		plain := make([]float32, c.n*d)
		CausalAttention(plain, q, k, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, 2)
		for _, threads := range []int{1, 3} {
			seen := make([][]float32, c.n*c.heads) // distinct slots: no lock needed
			calls := make([]int, c.n*c.heads)
			got := make([]float32, c.n*d)
			err := CausalAttentionObserve(context.Background(), got, q, k, v, c.n, c.p0, c.heads, c.kvHeads, c.headDim, c.stride, threads,
				func(i, h int, w []float32) {
					calls[i*c.heads+h]++
					seen[i*c.heads+h] = append([]float32(nil), w...)
				})
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != plain[i] {
					t.Fatalf("%s t%d: out[%d] = %g with an observer, %g without", name, threads, i, got[i], plain[i])
				}
			}
			scale := 1 / math.Sqrt(float64(c.headDim))
			for i := 0; i < c.n; i++ {
				keys := c.p0 + i + 1
				for h := 0; h < c.heads; h++ {
					w := seen[i*c.heads+h]
					if calls[i*c.heads+h] != 1 || len(w) != keys {
						t.Fatalf("%s t%d: row %d head %d observed %d times with %d weights, want once with %d", name, threads, i, h, calls[i*c.heads+h], len(w), keys)
					}
					var sum float64
					for _, x := range w {
						sum += float64(x)
					}
					if math.Abs(sum-1) > float64(keys+2)*0x1p-23 {
						t.Errorf("%s t%d: row %d head %d: weights sum to %.9g", name, threads, i, h, sum)
					}
					// The scores' error bound (TestCausalAttention's es), doubled through exp
					// and the normalisation, plus the roundings of the exponentials and the sum.
					g := h / (c.heads / c.kvHeads)
					qi := q[i*d+h*c.headDim:][:c.headDim]
					var worst float64
					for j := 0; j < keys; j++ {
						var abs float64
						for e := range qi {
							abs += math.Abs(float64(qi[e]) * float64(k[(g*c.stride+j)*c.headDim+e]))
						}
						worst = max(worst, abs)
					}
					es := float64(c.headDim+1) * 0x1p-24 * worst * scale
					rel := 4*es + float64(keys+8)*0x1p-23
					ref := causalWeightsRef(q, k, i, h, c.p0, c.heads, c.kvHeads, c.headDim, c.stride)
					for j, x := range w {
						if e := math.Abs(float64(x) - ref[j]); e > rel*ref[j]+1e-30 {
							t.Fatalf("%s t%d: row %d head %d key %d: weight %.9g, reference %.9g (bound %.3g)", name, threads, i, h, j, x, ref[j], rel*ref[j])
						}
					}
					for e := 0; e < c.headDim; e++ {
						var want, abs float64
						for j, x := range w {
							p := float64(x) * float64(v[(g*c.stride+j)*c.headDim+e])
							want += p
							abs += math.Abs(p)
						}
						o := float64(got[i*d+h*c.headDim+e])
						if math.Abs(o-want) > float64(keys+2)*0x1p-23*abs {
							t.Fatalf("%s t%d: row %d head %d: out[%d] = %.9g, Σ w·v = %.9g", name, threads, i, h, e, o, want)
						}
					}
				}
			}
		}
	}
}
