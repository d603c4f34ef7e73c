package text

import (
	"math"
	"sort"
)

// moeWeights are a sparse layer's weights in the module layout, unpacked: the reference's
// input.
type moeWeights struct {
	e, k, d, ie int
	router      []float32 // [E, D]
	gateUp      []float32 // [E, 2·I_e, D]: expert x's gate rows, then its up rows
	down        []float32 // [E, D, I_e]
}

// moeRef is the slow, obvious mixture of experts: for each token on its own, every sum in
// float64, the router's softmax, the k largest probabilities (ties to the lower expert index),
// their renormalised weights and the weighted sum of the chosen experts' SwiGLU MLPs. It
// returns the block's output [n, D] and each token's experts [n, k] in rank order.
func moeRef(w moeWeights, h []float32, n int) ([]float32, [][]int) {
	out := make([]float32, n*w.d)
	chosen := make([][]int, n)
	for i := 0; i < n; i++ {
		x := h[i*w.d : (i+1)*w.d]
		dot := func(row []float32) float64 {
			var s float64
			for c, v := range x {
				s += float64(v) * float64(row[c])
			}
			return s
		}
		p := make([]float64, w.e)
		var z, top float64 = 0, math.Inf(-1)
		for e := range p {
			p[e] = dot(w.router[e*w.d : (e+1)*w.d])
			top = max(top, p[e])
		}
		for e := range p {
			p[e] = math.Exp(p[e] - top)
			z += p[e]
		}
		order := make([]int, w.e)
		for e := range order {
			order[e] = e
			p[e] /= z
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		chosen[i] = order[:w.k]
		var norm float64
		for _, e := range chosen[i] {
			norm += p[e]
		}
		acc := make([]float64, w.d)
		for _, e := range chosen[i] {
			act := make([]float64, w.ie)
			for j := range act {
				g := dot(w.gateUp[(e*2*w.ie+j)*w.d:][:w.d])
				u := dot(w.gateUp[(e*2*w.ie+w.ie+j)*w.d:][:w.d])
				act[j] = g / (1 + math.Exp(-g)) * u
			}
			for c := range acc {
				var y float64
				for j, a := range act {
					y += a * float64(w.down[(e*w.d+c)*w.ie+j])
				}
				acc[c] += p[e] / norm * y
			}
		}
		for c, v := range acc {
			out[i*w.d+c] = float32(v)
		}
	}
	return out, chosen
}
