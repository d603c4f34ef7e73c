package kernels

// Rotary applies rotary position embedding in the "rotate half" (NeoX) form to the heads of
// rows vectors. Row r's head h starts at x[r·stride + h·headDim] and has headDim values;
// cos and sin are [rows, headDim]. With x₁, x₂ the two halves of a head:
//
//	x ← x·cos + [−x₂, x₁]·sin
//
// in float32, each product rounded before the sum, as PyTorch evaluates it (no fused
// multiply-add), so every implementation gives the same bits as RotaryRef. In the avx2+fma
// implementation the rows take an assembly loop, 8 values at a time (rotary_amd64.s); in the
// generic one a Go loop over the two halves (rotaryRowGo).
func Rotary(x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	rotary(active, x, rows, stride, heads, headDim, cos, sin, threads)
}

// rotary is Rotary with the implementation im.
func rotary(im *impl, x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	checkRotary(x, rows, stride, heads, headDim, cos, sin)
	parallelFor(rows, threads, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			im.rotaryRow(x[r*stride:r*stride+heads*headDim], heads, headDim,
				cos[r*headDim:(r+1)*headDim], sin[r*headDim:(r+1)*headDim])
		}
	})
}

// RotaryRef is the reference for Rotary, written from the formula and sharing no code with
// either implementation: for each row, head and value i, with rotate_half(v) = [−v₂, v₁],
//
//	x[i] ← float32(v[i]·cos[i]) + float32(rotate_half(v)[i]·sin[i])
//
// where v is a copy of the head taken before any value changes. It runs on one goroutine;
// threads is accepted for the same signature as Rotary and ignored.
func RotaryRef(x []float32, rows, stride, heads, headDim int, cos, sin []float32, threads int) {
	checkRotary(x, rows, stride, heads, headDim, cos, sin)
	half := headDim / 2
	v := make([]float32, headDim)
	for r := 0; r < rows; r++ {
		for h := 0; h < heads; h++ {
			head := x[r*stride+h*headDim : r*stride+(h+1)*headDim]
			copy(v, head)
			for i := range head {
				var rot float32
				if i < half {
					rot = -v[i+half]
				} else {
					rot = v[i-half]
				}
				c, s := cos[r*headDim+i], sin[r*headDim+i]
				head[i] = float32(v[i]*c) + float32(rot*s)
			}
		}
	}
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
