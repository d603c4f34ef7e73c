//go:build !amd64 || purego

package kernels

// geluTanhFast applies GELUTanh's formula to x (no assembly in this build).
func geluTanhFast(x []float32) {
	for i, v := range x {
		x[i] = geluTanhGo(v)
	}
}
