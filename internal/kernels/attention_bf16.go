package kernels

import "context"

// AttentionBF16 is Attention with its two products in bfloat16 arithmetic, as AVX512_BF16's
// VDPBF16PS computes them; it has exactly Attention's contract (layouts, segments, tiling,
// scheduling, memory O(longest segment · headDim)) and shares its code, with other micro-kernels
// for the products.
//
// The arithmetic, per segment, head and query row:
//
//	q̃ = RNE_bf16(q·log₂e/√headDim)       the scaling in float32, as Attention's, then rounded
//	k̃ = RNE_bf16(k), ṽ = RNE_bf16(v)      round to nearest even, subnormals to zero (RoundBF16NE)
//	s_j = Σ over k-dim pairs (2t, 2t+1), t = 0, 1, …, of dpbf16Ref steps (the odd element 2t+1
//	      first, then 2t, each one fused multiply-add in float32; an odd headDim pads a zero)
//	online softmax over blocks of attnBK keys exactly as Attention's (max, exp2, α, l in float32;
//	      l's rescaling in float64 as there)
//	P̃ = RNE_bf16(2^(s − m'))              m' the running maximum at that key block
//	O ← α·O (float32), then O += P̃·ṽ by dpbf16Ref steps over pairs of keys (2j, 2j+1) of the block
//	out = O / l
//
// The rounding is done on the fly by the micro-kernels (scoresBF16Go, pvBF16Go, pv8BF16Go),
// so the panels keep Attention's float32 layouts. There is no assembly yet: this is the portable
// implementation on every CPU, correct but slower than Attention (see BenchmarkAttentionBF16);
// use Attention for speed.
func AttentionBF16(out, qkv []float32, n, heads, headDim int, segments []int, threads int) {
	attention(&bf16Attn, nil, out, qkv, n, heads, headDim, segments, threads)
}

// AttentionBF16Context is AttentionBF16, stopped when ctx is done, exactly as AttentionContext.
func AttentionBF16Context(ctx context.Context, out, qkv []float32, n, heads, headDim int, segments []int, threads int) error {
	if attention(&bf16Attn, ctx.Done(), out, qkv, n, heads, headDim, segments, threads) {
		return nil
	}
	return ctx.Err()
}

// bf16Attn are AttentionBF16's micro-kernels: the bf16 products in Go, the float32 softmax of
// the active implementation (bit-identical to softmaxGo in every implementation).
var bf16Attn = attnKernels{
	name:    "bf16-generic",
	scores:  scoresBF16Go,
	pv:      pvBF16Go,
	pv8:     pv8BF16Go,
	softmax: active.attn.softmax,
}

// bf16 is RoundBF16NE for the on-the-fly rounding.
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

// scoresBF16Go is scoresGo's contract with bf16 products (AttentionBF16's comment).
func scoresBF16Go(k int, a, b, c []float32, ldc, panels int) {
	checkScores(k, a, b, c, ldc, panels)
	a = a[:k*attnMR]
	for t := 0; t < panels; t++ {
		bt := b[t*k*attnNR : (t+1)*k*attnNR]
		for i := 0; i < attnMR; i++ {
			for j := 0; j < attnNR; j++ {
				c[i*ldc+t*attnNR+j] = dotBF16(k,
					func(p int) float32 { return a[p*attnMR+i] },
					func(p int) float32 { return bt[p*attnNR+j] })
			}
		}
	}
}

// pvBF16Go is pvGo's contract with bf16 products over pairs of keys.
func pvBF16Go(kb int, p []float32, ldp int, v []float32, vstride int, o []float32, ldo, panels int, alpha []float32) {
	checkPV(kb, p, ldp, v, vstride, o, ldo, panels, alpha)
	for t := 0; t < panels; t++ {
		pvBF16Cols(kb, p, ldp, v[t*vstride:t*vstride+kb*attnNR], attnNR, o[t*attnNR:], ldo, alpha)
	}
}

// pv8BF16Go is pv8Go's contract with bf16 products over pairs of keys.
func pv8BF16Go(kb int, p []float32, ldp int, v, o []float32, ldo int, alpha []float32) {
	checkPV8(kb, p, ldp, v, o, ldo, alpha)
	pvBF16Cols(kb, p, ldp, v[:kb*8], 8, o, ldo, alpha)
}

// pvBF16Cols updates o[0:6, 0:w] = alpha[i]·o + P̃·ṽ for one value panel v (kb × w, key-major).
func pvBF16Cols(kb int, p []float32, ldp int, v []float32, w int, o []float32, ldo int, alpha []float32) {
	for i := 0; i < attnMR; i++ {
		pi := p[i*ldp : i*ldp+kb]
		for c := 0; c < w; c++ {
			acc := o[i*ldo+c] * alpha[i]
			for j := 0; j < kb; j += 2 {
				var p1, v1 uint16
				if j+1 < kb {
					p1, v1 = bf16(pi[j+1]), bf16(v[(j+1)*w+c])
				}
				acc = dpbf16Ref(acc, bf16(pi[j]), p1, bf16(v[j*w+c]), v1)
			}
			o[i*ldo+c] = acc
		}
	}
}
