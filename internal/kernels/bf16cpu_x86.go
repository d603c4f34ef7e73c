//go:build 386 || amd64

package kernels

import "golang.org/x/sys/cpu"

// bf16Features reads x/sys/cpu's flags (its HasAVX512BF16 already requires AVX-512F and the
// OS's ZMM state); the tile state comes from xcr0, where this build can read it.
var bf16Features = func() BF16Features {
	f := BF16Features{
		AVX512BF16: cpu.X86.HasAVX512BF16 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL,
		AMXBF16CPU: cpu.X86.HasAMXBF16 && cpu.X86.HasAMXTile,
		Assembly:   bf16Assembly,
	}
	if f.AMXBF16CPU && cpu.X86.HasOSXSAVE {
		if lo, ok := xcr0(); ok {
			f.AMXBF16OS = lo&(1<<17) != 0 && lo&(1<<18) != 0
		}
	}
	return f
}()
