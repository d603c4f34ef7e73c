package kernels

// Rotary applies rotary position embedding in the "rotate half" (NeoX) form to the heads of
// rows vectors. Row r's head h starts at x[r·stride + h·headDim] and has headDim values;
// cos and sin are [rows, headDim]. With x₁, x₂ the two halves of a head:
//
//	x ← x·cos + [−x₂, x₁]·sin
//
// in float32, each product rounded before the sum, as PyTorch evaluates it.
func Rotary(x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	half := headDim / 2
	parallelFor(rows, threads, func(lo, hi int) {
		tmp := make([]float32, headDim)
		for r := lo; r < hi; r++ {
			c := cos[r*headDim : (r+1)*headDim]
			s := sin[r*headDim : (r+1)*headDim]
			for h := 0; h < heads; h++ {
				v := x[r*stride+h*headDim : r*stride+(h+1)*headDim]
				copy(tmp, v)
				for i := 0; i < half; i++ {
					v[i] = float32(tmp[i]*c[i]) + float32(-tmp[i+half]*s[i])
				}
				for i := half; i < headDim; i++ {
					v[i] = float32(tmp[i]*c[i]) + float32(tmp[i-half]*s[i])
				}
			}
		}
	})
}
