//go:build amd64 && !purego

#include "textflag.h"
#include "exp2_amd64.h"

// geluc: constants of GELUTanh, each over 32 bytes: geluK0 = −2·log₂e·√(2/π), geluK1 =
// geluK0·0.044715 (act.go), 127.0 (the upper clamp of exp2) and 1.0.
#define GELUC(off, bits) \
	DATA geluc<>+(off+0)(SB)/4, $bits  \
	DATA geluc<>+(off+4)(SB)/4, $bits  \
	DATA geluc<>+(off+8)(SB)/4, $bits  \
	DATA geluc<>+(off+12)(SB)/4, $bits \
	DATA geluc<>+(off+16)(SB)/4, $bits \
	DATA geluc<>+(off+20)(SB)/4, $bits \
	DATA geluc<>+(off+24)(SB)/4, $bits \
	DATA geluc<>+(off+28)(SB)/4, $bits

GELUC(0, 0xc0135761)
GELUC(32, 0xbdd2d3e8)
GELUC(64, 0x42fe0000)
GELUC(96, 0x3f800000)
GLOBL geluc<>(SB), RODATA|NOPTR, $128

// func geluTanhVec(x *float32, n int)
// x[i] ← x[i] / (1 + 2^z), z = x·(K0 + K1·x²), for i < n; n a multiple of 8. Register use:
// Y0 x, Y1 z then 2^z, Y2 Y3 exp2 scratch, Y4 … Y10 exp2 constants, Y11 127, Y12 K1, Y13 1.
TEXT ·geluTanhVec(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   done
	EXP2LOAD
	VMOVUPS geluc<>+64(SB), Y11
	VMOVUPS geluc<>+32(SB), Y12
	VMOVUPS geluc<>+96(SB), Y13

loop:
	VMOVUPS     (SI), Y0
	VMULPS      Y0, Y0, Y1
	VFMADD213PS geluc<>+0(SB), Y12, Y1 // K1·x² + K0
	VMULPS      Y0, Y1, Y1
	VMINPS      Y1, Y11, Y1
	EXP2R(Y1, Y2, Y3)
	VADDPS      Y13, Y1, Y1
	VDIVPS      Y1, Y0, Y0
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	DECQ        CX
	JNZ         loop

done:
	VZEROUPPER
	RET
