//go:build amd64 && !purego

package kernels

//go:noescape
func layerNormRowVec(dst, x, w, b *float32, n int, eps float64)

// layerNormRowFast is one row of LayerNorm: the assembly when the CPU has AVX2 and FMA and the
// row length is a positive multiple of 8, otherwise layerNormRowGo.
func layerNormRowFast(dst, x, w, b []float32, eps float32) {
	n := len(x)
	if hasAVX2FMA && n > 0 && n%8 == 0 {
		_, _, _ = dst[n-1], w[n-1], b[n-1]
		layerNormRowVec(&dst[0], &x[0], &w[0], &b[0], n, float64(eps))
		return
	}
	layerNormRowGo(dst, x, w, b, eps)
}
