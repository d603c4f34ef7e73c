//go:build amd64 && !purego

#include "textflag.h"
#include "exp2_amd64.h"

// ·exp2c: the constants of exp2 (exp2_amd64.h), each replicated over 32 bytes (one YMM register).
//   +0    −127.0        lower clamp: 2^x for x < −126.5 flushes to 0
//   +32   127.0         upper clamp
//   +64   (unused)
//   +96 … +256          P0 … P5 of 2^f = 1 + f·(((((P0·f + P1)·f + P2)·f + P3)·f + P4)·f + P5),
//                       f ∈ [−½, ½] (Cephes exp2f; relative error ≤ 1.7e-7 there)
//   +288  1.0           (also the exponent bias: its bits are 127 << 23)
//   +320  1.5·2²³       rounding to an integer by addition
#define EXP2C(off, bits) \
	DATA ·exp2c+(off+0)(SB)/4, $bits  \
	DATA ·exp2c+(off+4)(SB)/4, $bits  \
	DATA ·exp2c+(off+8)(SB)/4, $bits  \
	DATA ·exp2c+(off+12)(SB)/4, $bits \
	DATA ·exp2c+(off+16)(SB)/4, $bits \
	DATA ·exp2c+(off+20)(SB)/4, $bits \
	DATA ·exp2c+(off+24)(SB)/4, $bits \
	DATA ·exp2c+(off+28)(SB)/4, $bits

EXP2C(0, 0xc2fe0000)
EXP2C(32, 0x42fe0000)
EXP2C(64, 0x00000000)
EXP2C(96, 0x3920fdde)
EXP2C(128, 0x3aaf9f29)
EXP2C(160, 0x3c1d96a6)
EXP2C(192, 0x3d635774)
EXP2C(224, 0x3e75fdee)
EXP2C(256, 0x3f317218)
EXP2C(288, 0x3f800000)
EXP2C(320, 0x4b400000)
GLOBL ·exp2c(SB), RODATA|NOPTR, $352

// func exp2Vec(dst, src *float32, n int)
// dst[i] = 2^src[i] for i < n; n a multiple of 8. dst may equal src.
TEXT ·exp2Vec(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
	EXP2LOAD
	VMOVUPS ·exp2c+32(SB), Y11

loop:
	VMOVUPS (SI), Y0
	VMINPS  Y0, Y11, Y0 // NaN stays NaN here, then becomes −127
	EXP2R(Y0, Y1, Y2)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET

