//go:build 386 || (amd64 && purego)

package kernels

// bf16Assembly: this build has no bf16 assembly.
const bf16Assembly = false

// xcr0: not readable without assembly; the tile state is then reported absent.
func xcr0() (uint32, bool) { return 0, false }
