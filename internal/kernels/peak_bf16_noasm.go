//go:build !amd64 || purego

package kernels

// bf16Peak: no bf16 assembly in this build.
var bf16Peak func(int) float32

const bf16PeakFLOP = 0
