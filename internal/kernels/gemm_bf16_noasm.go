//go:build !amd64 || purego

package kernels

// bf16TileAsm: no bf16 assembly in this build.
var bf16TileAsm bf16Tile

// bf16Tile4Asm: no bf16 assembly in this build.
var bf16Tile4Asm bf16Tile4

// bf16PackAsm: no bf16 assembly in this build.
var bf16PackAsm bf16Pack

// bf16RowPackAsm: no bf16 assembly in this build.
var bf16RowPackAsm bf16RowPack

// bf16PairsAsm: no bf16 assembly in this build.
var bf16PairsAsm bf16Pairs

// bf16GemvAsm, bf16Gemv4Asm: no bf16 assembly in this build.
var bf16GemvAsm, bf16Gemv4Asm bf16Gemv
