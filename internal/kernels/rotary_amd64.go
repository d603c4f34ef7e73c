//go:build amd64 && !purego

package kernels

// rotaryRowVec is rotaryRowGo in assembly (rotary_amd64.s): x holds heads·headDim values, c and
// s headDim; headDim even.
//
//go:noescape
func rotaryRowVec(x *float32, heads, headDim int, c, s *float32)

func rotaryRowAVX2(x []float32, heads, headDim int, c, s []float32) {
	if heads <= 0 || headDim <= 0 {
		return
	}
	_, _, _ = x[heads*headDim-1], c[headDim-1], s[headDim-1]
	rotaryRowVec(&x[0], heads, headDim, &c[0], &s[0])
}
