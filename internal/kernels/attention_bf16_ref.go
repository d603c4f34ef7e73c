package kernels

import "math"

// attentionBF16Ref is the slow, obvious reference for AttentionBF16 on one thread: per segment,
// head and query row, the scores as AttentionBF16 defines them (bf16-rounded q and k,
// dpbf16Ref steps in the pair order, then the scaling), their maximum m, w_j = exp2Go(s_j − m), l = Σ w_j in
// float64, and out = Σ_j RNE_bf16(w_j)·ṽ_j / l with the sum in float64. It also returns
// absOut[i] = Σ_j w_j·|ṽ_j| / l for each output, the scale of the errors (see the tests).
func attentionBF16Ref(out, qkv []float32, n, heads, hd int, segments []int) (absOut []float64) {
	d := heads * hd
	absOut = make([]float64, n*d)
	scale := float32(math.Log2E / math.Sqrt(float64(hd)))
	start := 0
	for _, l := range segments {
		s := make([]float32, l)
		for h := 0; h < heads; h++ {
			for i := 0; i < l; i++ {
				q := qkv[(start+i)*3*d+h*hd:][:hd]
				m := float32(math.Inf(-1))
				for j := 0; j < l; j++ {
					k := qkv[(start+j)*3*d+d+h*hd:][:hd]
					s[j] = scale * dotBF16(hd, func(p int) float32 { return q[p] }, func(p int) float32 { return k[p] })
					m = max(m, s[j])
				}
				acc := make([]float64, hd)
				abs := make([]float64, hd)
				var sum float64
				for j := 0; j < l; j++ {
					w := exp2Go(s[j] - m)
					sum += float64(w)
					pw := float64(bf16ToF32(bf16(w)))
					for c := 0; c < hd; c++ {
						vv := float64(bf16ToF32(bf16(qkv[(start+j)*3*d+2*d+h*hd+c])))
						acc[c] += pw * vv
						abs[c] += float64(w) * math.Abs(vv)
					}
				}
				for c := 0; c < hd; c++ {
					at := (start+i)*d + h*hd + c
					out[at] = float32(acc[c] / sum)
					absOut[at] = abs[c] / sum
				}
			}
		}
		start += l
	}
	return absOut
}

// bf16ToF32 widens bfloat16 bits.
func bf16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// bf16 is RoundBF16NE, for the reference.
func bf16(x float32) uint16 { return RoundBF16NE(x) }

// dotBF16 is the score of one pair: Σ over pairs (2t, 2t+1) of dpbf16Ref steps, x_p = x(p),
// y_p = y(p), p < k (an odd k pads a zero pair element).
func dotBF16(k int, x, y func(p int) float32) float32 {
	var acc float32
	for p := 0; p < k; p += 2 {
		var x1, y1 uint16
		if p+1 < k {
			x1, y1 = bf16(x(p+1)), bf16(y(p+1))
		}
		acc = dpbf16Ref(acc, bf16(x(p)), x1, bf16(y(p)), y1)
	}
	return acc
}
