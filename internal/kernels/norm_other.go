//go:build !amd64 || purego

package kernels

// layerNormRowFast is one row of LayerNorm (no assembly in this build).
func layerNormRowFast(dst, x, w, b []float32, eps float32) { layerNormRowGo(dst, x, w, b, eps) }
