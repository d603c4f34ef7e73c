package kernels

import "math"

// LayerNorm normalises each of the rows of x [rows, cols] to zero mean and unit variance (the
// biased variance, as PyTorch uses), then scales by w [cols] and shifts by b [cols]:
// dst[r, c] = (x[r, c] − mean_r) / √(var_r + eps) · w[c] + b[c]. Statistics are accumulated in
// float64. dst may alias x.
func LayerNorm(dst, x, w, b []float32, rows, cols int, eps float32, threads int) {
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			layerNormRow(dst[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], w, b, eps)
		}
	})
}

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
