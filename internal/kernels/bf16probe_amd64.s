//go:build amd64 && !purego

#include "textflag.h"
#include "bf16_amd64.h"

// func dpbf16Probe(acc *[16]float32, a, b *[32]uint16)
// One VDPBF16PS on ZMM: acc[i] += a[2i+1]·b[2i+1], then += a[2i]·b[2i] (a is the first
// source, zmm1; b the second, zmm2).
TEXT ·dpbf16Probe(SB), NOSPLIT, $0-24
	MOVQ      acc+0(FP), DI
	MOVQ      a+8(FP), SI
	MOVQ      b+16(FP), DX
	VMOVDQU32 (DI), Z0
	VMOVDQU32 (SI), Z1
	VMOVDQU32 (DX), Z2
	VDPBF16PS_Z0_Z1_Z2
	VMOVDQU32 Z0, (DI)
	VZEROUPPER
	RET

// func cvtne2Probe(dst *[32]uint16, lo, hi *[16]float32)
// One VCVTNE2PS2BF16 on ZMM: dst[0:16] from lo (the second source, zmm2), dst[16:32] from hi
// (the first, zmm1).
TEXT ·cvtne2Probe(SB), NOSPLIT, $0-24
	MOVQ           dst+0(FP), DI
	MOVQ           lo+8(FP), SI
	MOVQ           hi+16(FP), DX
	VMOVDQU32      (SI), Z2
	VMOVDQU32      (DX), Z1
	VCVTNE2PS2BF16_Z0_Z1_Z2
	VMOVDQU32      Z0, (DI)
	VZEROUPPER
	RET
