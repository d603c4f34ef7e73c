//go:build !amd64 || purego

package kernels

// bf16TileAsm: no bf16 assembly in this build.
var bf16TileAsm func(a []uint32, b []uint16, c []float32, ldc, kp int)

// bf16PackAsm: no bf16 assembly in this build.
var bf16PackAsm func(block []uint32, x []float32, in, chunks int)
