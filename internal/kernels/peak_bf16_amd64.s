//go:build amd64 && !purego

#include "textflag.h"
#include "bf16_amd64.h"

// func dpbf16Peak(n int)
// n iterations of 16 independent VDPBF16PS on ZMM registers (Z0–Z15 += Z30·Z31 pairs), 16 ·
// 16 lanes · 2 pairs · 2 = 1024 FLOP per iteration, touching no memory. Sixteen chains cover
// the instruction's latency at one (Zen 4: one per cycle, as two 256-bit halves) or two per
// cycle. The values stay zero: no subnormals.
TEXT ·dpbf16Peak(SB), NOSPLIT, $0-8
	MOVQ    n+0(FP), CX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	VPXORD  Z12, Z12, Z12
	VPXORD  Z13, Z13, Z13
	VPXORD  Z14, Z14, Z14
	VPXORD  Z15, Z15, Z15
	VPXORD  Z30, Z30, Z30
	VPXORD  Z31, Z31, Z31
	TESTQ   CX, CX
	JLE     done

loop:
	VDPBF16PS_Z0_Z30_Z31
	VDPBF16PS_Z1_Z30_Z31
	VDPBF16PS_Z2_Z30_Z31
	VDPBF16PS_Z3_Z30_Z31
	VDPBF16PS_Z4_Z30_Z31
	VDPBF16PS_Z5_Z30_Z31
	VDPBF16PS_Z6_Z30_Z31
	VDPBF16PS_Z7_Z30_Z31
	VDPBF16PS_Z8_Z30_Z31
	VDPBF16PS_Z9_Z30_Z31
	VDPBF16PS_Z10_Z30_Z31
	VDPBF16PS_Z11_Z30_Z31
	VDPBF16PS_Z12_Z30_Z31
	VDPBF16PS_Z13_Z30_Z31
	VDPBF16PS_Z14_Z30_Z31
	VDPBF16PS_Z15_Z30_Z31
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET
