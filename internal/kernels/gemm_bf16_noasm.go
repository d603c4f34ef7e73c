//go:build !amd64 || purego

package kernels

// bf16TileAsm: no bf16 assembly in this build.
var bf16TileAsm bf16Tile

// bf16PackAsm: no bf16 assembly in this build.
var bf16PackAsm func(block []uint32, x []float32, in, chunks int)
