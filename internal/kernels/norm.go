package kernels

import "math"

// LayerNorm normalises each of the rows of x [rows, cols] to zero mean and unit variance (the
// biased variance, as PyTorch uses), then scales by w [cols] and shifts by b [cols]:
// dst[r, c] = (x[r, c] − mean_r) / √(var_r + eps) · w[c] + b[c]. Statistics and the result are
// computed in float64 (two passes for the variance) and rounded once; in the avx2+fma
// implementation the rows whose length is a multiple of 8 take an assembly loop on 4 float64
// lanes (norm_amd64.s). LayerNormRef is the scalar reference. dst may alias x.
func LayerNorm(dst, x, w, b []float32, rows, cols int, eps float32, threads int) {
	layerNorm(active, dst, x, w, b, rows, cols, eps, threads)
}

// layerNorm is LayerNorm with the implementation im.
func layerNorm(im *impl, dst, x, w, b []float32, rows, cols int, eps float32, threads int) {
	checkLayerNorm(dst, x, w, b, rows, cols)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			im.layerNormRow(dst[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], w, b, eps)
		}
	})
}

// LayerNormRef is the reference for LayerNorm: the same formula, scalar, in float64.
func LayerNormRef(dst, x, w, b []float32, rows, cols int, eps float32, threads int) {
	checkLayerNorm(dst, x, w, b, rows, cols)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			layerNormRow(dst[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], w, b, eps)
		}
	})
}

func checkLayerNorm(dst, x, w, b []float32, rows, cols int) {
	if len(x) < rows*cols || len(dst) < rows*cols || len(w) < cols || len(b) < cols {
		panic("kernels: LayerNorm: buffers too small")
	}
}

// layerNormRow is one row of LayerNormRef.
func layerNormRow(dst, x, w, b []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	var sq float64
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	rstd := 1 / math.Sqrt(sq/float64(len(x))+float64(eps))
	for i, v := range x {
		dst[i] = float32((float64(v)-mean)*rstd*float64(w[i]) + float64(b[i]))
	}
}

// layerNormRowGo is one row of LayerNorm in portable Go: as layerNormRow, with the sums in four
// independent chains (the single chain of layerNormRow waits on each addition's latency).
func layerNormRowGo(dst, x, w, b []float32, eps float32) {
	n := len(x)
	w, b, dst = w[:n], b[:n], dst[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < n; i++ {
		s0 += float64(x[i])
	}
	mean := ((s0 + s1) + (s2 + s3)) / float64(n)
	s0, s1, s2, s3 = 0, 0, 0, 0
	for i = 0; i+4 <= n; i += 4 {
		d0, d1 := float64(x[i])-mean, float64(x[i+1])-mean
		d2, d3 := float64(x[i+2])-mean, float64(x[i+3])-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(x[i]) - mean
		s0 += d * d
	}
	rstd := 1 / math.Sqrt(((s0+s1)+(s2+s3))/float64(n)+float64(eps))
	for i, v := range x {
		dst[i] = float32((float64(v)-mean)*rstd*float64(w[i]) + float64(b[i]))
	}
}
