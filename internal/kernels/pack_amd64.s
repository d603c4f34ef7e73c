//go:build amd64 && !purego

#include "textflag.h"

// func packA6(dst, src *float32, ld, kc int)
// One activation micro-panel (pack.go): dst[p·6 + i] = src[i·ld + p] for i < 6, p < kc.
// Four steps at a time: a 4×4 transpose of rows 0–3 (16 bytes per step) and an interleave of
// rows 4 and 5 (8 bytes per step); the last kc mod 4 steps one by one.
TEXT ·packA6(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9  // 3·ld
	LEAQ (R8)(R8*4), R10 // 5·ld
	MOVQ kc+24(FP), CX
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	VMOVUPS   (SI), X0          // a0 a1 a2 a3
	VMOVUPS   (SI)(R8*1), X1    // b
	VMOVUPS   (SI)(R8*2), X2    // c
	VMOVUPS   (SI)(R9*1), X3    // d
	VMOVUPS   (SI)(R8*4), X4    // e
	VMOVUPS   (SI)(R10*1), X5   // f
	VUNPCKLPS X1, X0, X6        // a0 b0 a1 b1
	VUNPCKHPS X1, X0, X7        // a2 b2 a3 b3
	VUNPCKLPS X3, X2, X8        // c0 d0 c1 d1
	VUNPCKHPS X3, X2, X9        // c2 d2 c3 d3
	VUNPCKLPS X5, X4, X10       // e0 f0 e1 f1
	VUNPCKHPS X5, X4, X11       // e2 f2 e3 f3
	VMOVLHPS  X8, X6, X0        // a0 b0 c0 d0
	VMOVHLPS  X6, X8, X1        // a1 b1 c1 d1
	VMOVLHPS  X9, X7, X2        // a2 b2 c2 d2
	VMOVHLPS  X7, X9, X3        // a3 b3 c3 d3
	VMOVUPS   X0, (DI)
	VMOVQ     X10, 16(DI)
	VMOVUPS   X1, 24(DI)
	VMOVHPS   X10, 40(DI)
	VMOVUPS   X2, 48(DI)
	VMOVQ     X11, 64(DI)
	VMOVUPS   X3, 72(DI)
	VMOVHPS   X11, 88(DI)
	ADDQ      $16, SI
	ADDQ      $96, DI
	DECQ      BX
	JNZ       loop4

tail:
	ANDQ $3, CX
	JZ   done

loop1:
	MOVL (SI), AX
	MOVL AX, (DI)
	MOVL (SI)(R8*1), AX
	MOVL AX, 4(DI)
	MOVL (SI)(R8*2), AX
	MOVL AX, 8(DI)
	MOVL (SI)(R9*1), AX
	MOVL AX, 12(DI)
	MOVL (SI)(R8*4), AX
	MOVL AX, 16(DI)
	MOVL (SI)(R10*1), AX
	MOVL AX, 20(DI)
	ADDQ $4, SI
	ADDQ $24, DI
	DECQ CX
	JNZ  loop1

done:
	RET

// func widen16(dst *float32, src *uint16, n int)
//
// dst[i] = src[i] widened from bfloat16 to float32 (exact: the bits shifted up by 16), for
// n > 0 a multiple of 16.
TEXT ·widen16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX

widenloop:
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       widenloop
	VZEROUPPER
	RET

// func prefetchL2(p unsafe.Pointer, n int)
//
// PREFETCHT1 on every 64-byte line of the n > 0 bytes from p.
TEXT ·prefetchL2(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX

pfloop:
	PREFETCHT1 (SI)
	ADDQ       $64, SI
	SUBQ       $64, CX
	JG         pfloop
	RET
