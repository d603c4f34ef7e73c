//go:build amd64 && !purego

package kernels

// bf16Assembly: this build has the bf16 Go assembly (used where BF16().AVX512BF16).
const bf16Assembly = true

// xgetbv0 returns XCR0's low 32 bits (XGETBV with ECX = 0). Implemented in bf16cpu_amd64.s;
// call it only where CPUID reports OSXSAVE.
//
//go:noescape
func xgetbv0() uint32

func xcr0() (uint32, bool) { return xgetbv0(), true }
