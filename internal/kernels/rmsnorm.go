package kernels

import "math"

// RMSNorm normalises each row of x [rows, cols] by its root mean square and scales it by w
// [cols], as Hugging Face's Qwen3 / Llama RMSNorm does in float32:
//
//	v = mean(x[r, :]²)                   accumulated in float64, rounded to float32
//	s = float32(1 / √(v + eps))          (torch.rsqrt in float32)
//	dst[r, c] = w[c] · float32(x[r, c] · s)
//
// each product rounded to float32 in that order, as PyTorch evaluates weight * (x * rsqrt(…)).
// The sum of squares runs in four float64 chains; RMSNormRef is the one-chain reference, equal
// to it but where the float64 sums round differently (at most 1 ulp of the result). dst may
// alias x.
func RMSNorm(dst, x, w []float32, rows, cols int, eps float32, threads int) {
	checkRMSNorm(dst, x, w, rows, cols)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rmsNormRow(dst[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], w[:cols], eps)
		}
	})
}

// RMSNormRef is the reference for RMSNorm: the same formula, one row at a time on one goroutine,
// the sum of squares in one float64 chain. threads is ignored.
func RMSNormRef(dst, x, w []float32, rows, cols int, eps float32, threads int) {
	checkRMSNorm(dst, x, w, rows, cols)
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		var sq float64
		for _, v := range row {
			sq += float64(v) * float64(v)
		}
		s := float32(1 / math.Sqrt(float64(float32(sq/float64(cols))+eps)))
		for c, v := range row {
			dst[r*cols+c] = w[c] * (v * s)
		}
	}
}

func checkRMSNorm(dst, x, w []float32, rows, cols int) {
	if rows < 0 || cols <= 0 || len(x) < rows*cols || len(dst) < rows*cols || len(w) < cols {
		panic("kernels: RMSNorm: buffers too small")
	}
}

// rmsNormRow is one row of RMSNorm.
func rmsNormRow(dst, x, w []float32, eps float32) {
	n := len(x)
	dst, w = dst[:n], w[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < n; i++ {
		s0 += float64(x[i]) * float64(x[i])
	}
	s := float32(1 / math.Sqrt(float64(float32(((s0+s1)+(s2+s3))/float64(n))+eps)))
	for i, v := range x {
		dst[i] = w[i] * (v * s)
	}
}
