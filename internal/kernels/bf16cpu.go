//go:generate go run gen_bf16.go

package kernels

import "strings"

// BF16Features is what this CPU, its OS and this build offer for bfloat16 dot products, as
// `qwen3vl version` and `bench` report it (BF16). The flags are read once, at start.
type BF16Features struct {
	// AVX512BF16: VDPBF16PS and VCVTNE2PS2BF16 can run: CPUID.(EAX=7,ECX=1):EAX bit 5, with
	// AVX-512 F, BW and VL, and the OS saving the opmask and ZMM state (XCR0 bits 5–7).
	AVX512BF16 bool
	// AMXBF16CPU: the CPU has AMX-BF16 and AMX-TILE (CPUID.(EAX=7,ECX=0):EDX bits 22 and 24).
	// AMXBF16OS: the OS also enables the tile state (XCR0 bits 17 and 18, XTILECFG and
	// XTILEDATA). Linux further wants a per-process request (arch_prctl ARCH_REQ_XCOMP_PERM)
	// before the first tile instruction; nothing here makes it, as no kernel uses AMX yet.
	AMXBF16CPU, AMXBF16OS bool
	// Assembly: this build has the Go-assembly bf16 kernels (amd64 without the purego tag).
	// Without it the flags above describe the CPU only: every bf16 kernel runs portable Go.
	Assembly bool
}

// BF16 reports this machine's and build's bfloat16 dot-product features.
func BF16() BF16Features { return bf16Features }

// String lists the features, for example "avx512_bf16" or "avx512_bf16 (unused: purego
// build), amx_bf16 (no OS tile state)", or "none".
func (f BF16Features) String() string {
	var s []string
	if f.AVX512BF16 {
		if f.Assembly {
			s = append(s, "avx512_bf16")
		} else {
			s = append(s, "avx512_bf16 (unused: no assembly in this build)")
		}
	}
	switch {
	case f.AMXBF16CPU && f.AMXBF16OS:
		s = append(s, "amx_bf16 (unused)")
	case f.AMXBF16CPU:
		s = append(s, "amx_bf16 (no OS tile state)")
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
