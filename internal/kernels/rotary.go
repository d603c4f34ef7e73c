package kernels

// Rotary applies rotary position embedding in the "rotate half" (NeoX) form to the heads of
// rows vectors. Row r's head h starts at x[r·stride + h·headDim] and has headDim values;
// cos and sin are [rows, headDim]. With x₁, x₂ the two halves of a head:
//
//	x ← x·cos + [−x₂, x₁]·sin
//
// in float32, each product rounded before the sum, as PyTorch evaluates it (no fused
// multiply-add), so every implementation gives the same bits as RotaryRef. On amd64 with AVX2
// the rows take an assembly loop, 8 values at a time (rotary_amd64.s).
func Rotary(x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	checkRotary(x, rows, stride, heads, headDim, cos, sin)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rotaryRowFast(x[r*stride:r*stride+heads*headDim], heads, headDim,
				cos[r*headDim:(r+1)*headDim], sin[r*headDim:(r+1)*headDim])
		}
	})
}

// RotaryRef is the reference for Rotary: the same arithmetic, one value at a time in Go.
func RotaryRef(x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	checkRotary(x, rows, stride, heads, headDim, cos, sin)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rotaryRowGo(x[r*stride:r*stride+heads*headDim], heads, headDim,
				cos[r*headDim:(r+1)*headDim], sin[r*headDim:(r+1)*headDim])
		}
	})
}

func checkRotary(x []float32, rows, stride, heads, headDim int, cos, sin []float32) {
	if rows <= 0 {
		return
	}
	if headDim%2 != 0 || heads*headDim > stride || len(x) < (rows-1)*stride+heads*headDim ||
		len(cos) < rows*headDim || len(sin) < rows*headDim {
		panic("kernels: Rotary: bad shape or buffers too small")
	}
}

// rotaryRowGo rotates the heads of one row: x holds heads·headDim values, c and s headDim.
func rotaryRowGo(x []float32, heads, headDim int, c, s []float32) {
	half := headDim / 2
	c, s = c[:headDim], s[:headDim]
	for h := 0; h < heads; h++ {
		v := x[h*headDim : (h+1)*headDim]
		for i := 0; i < half; i++ {
			a, b := v[i], v[i+half]
			v[i] = float32(a*c[i]) + float32(-b*s[i])
			v[i+half] = float32(b*c[i+half]) + float32(a*s[i+half])
		}
	}
}
