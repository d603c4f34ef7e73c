//go:build !amd64 || purego

package kernels

func rotaryRowFast(x []float32, heads, headDim int, c, s []float32) {
	rotaryRowGo(x, heads, headDim, c, s)
}
