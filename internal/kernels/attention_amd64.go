//go:build amd64 && !purego

package kernels

// Assembly micro-kernels of the tiled attention and of exp2, AVX2 + FMA (attention_amd64.s).
// The Go wrappers check every bound the assembly relies on, then pass pointers.

//go:noescape
func attnScores(k int, a, b, c *float32, ldc, panels int)

//go:noescape
func attnPV(kb int, p *float32, ldp int, v *float32, vstride int, o *float32, ldo, panels int, alpha *float32)

//go:noescape
func attnPV8(kb int, p *float32, ldp int, v, o *float32, ldo int, alpha *float32)

//go:noescape
func attnSoftmax(s *float32, ld, kb int, m, alpha, sum *float32)

//go:noescape
func exp2Vec(dst, src *float32, n int)

func scoresAsm(k int, a, b, c []float32, ldc, panels int) {
	checkScores(k, a, b, c, ldc, panels)
	attnScores(k, &a[0], &b[0], &c[0], ldc, panels)
}

func pvAsm(kb int, p []float32, ldp int, v []float32, vstride int, o []float32, ldo, panels int, alpha []float32) {
	checkPV(kb, p, ldp, v, vstride, o, ldo, panels, alpha)
	attnPV(kb, &p[0], ldp, &v[0], vstride, &o[0], ldo, panels, &alpha[0])
}

func pv8Asm(kb int, p []float32, ldp int, v, o []float32, ldo int, alpha []float32) {
	checkPV8(kb, p, ldp, v, o, ldo, alpha)
	attnPV8(kb, &p[0], ldp, &v[0], &o[0], ldo, &alpha[0])
}

func softmaxAsm(s []float32, ld, kb int, m, alpha, sum *[8]float32) {
	checkSoftmax(s, ld, kb)
	attnSoftmax(&s[0], ld, kb, &m[0], &alpha[0], &sum[0])
}

// exp2AVX2 sets dst[i] = 2^src[i] (see exp2Go for the accuracy and the clamping), with the
// assembly loop (exp2_amd64.s) on whole groups of 8.
func exp2AVX2(dst, src []float32) {
	src = src[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		exp2Vec(&dst[0], &src[0], n)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = exp2Go(src[i])
	}
}
