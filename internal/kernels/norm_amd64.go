//go:build amd64 && !purego

package kernels

//go:noescape
func layerNormRowVec(dst, x, w, b *float32, n int, eps float64)

// layerNormRowAVX2 is one row of LayerNorm: the assembly (norm_amd64.s) when the row length is a
// positive multiple of 8, otherwise layerNormRowGo.
func layerNormRowAVX2(dst, x, w, b []float32, eps float32) {
	n := len(x)
	if n > 0 && n%8 == 0 {
		_, _, _ = dst[n-1], w[n-1], b[n-1]
		layerNormRowVec(&dst[0], &x[0], &w[0], &b[0], n, float64(eps))
		return
	}
	layerNormRowGo(dst, x, w, b, eps)
}
