//go:build amd64 && !purego

#include "textflag.h"

// func rotaryRowVec(x *float32, heads, headDim int, c, s *float32)
// For each head (headDim floats from x), with a = x[i], b = x[i+half], half = headDim/2:
//
//	x[i] = a·c[i] − b·s[i],  x[i+half] = b·c[i+half] + a·s[i+half]
//
// each product rounded, then the sum (no FMA): the bits of rotaryRowGo. Eight i at a time,
// then one at a time.
TEXT ·rotaryRowVec(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ heads+8(FP), R8
	MOVQ headDim+16(FP), R9
	MOVQ c+24(FP), R10
	MOVQ s+32(FP), R11
	MOVQ R9, R12
	SHRQ $1, R12                // half
	LEAQ (R12*4), R13           // half in bytes
	MOVQ R12, BX
	SHRQ $3, BX                 // groups of 8
	ANDQ $7, R12                // the rest

head:
	XORQ AX, AX                 // byte offset of i
	MOVQ BX, CX
	TESTQ CX, CX
	JZ   tail

loop8:
	LEAQ    (AX)(R13*1), DX     // offset of i + half
	VMOVUPS (DI)(AX*1), Y0      // a
	VMOVUPS (DI)(DX*1), Y1      // b
	VMULPS  (R10)(AX*1), Y0, Y2 // a·c[i]
	VMULPS  (R11)(AX*1), Y1, Y3 // b·s[i]
	VSUBPS  Y3, Y2, Y2
	VMULPS  (R10)(DX*1), Y1, Y4 // b·c[i+half]
	VMULPS  (R11)(DX*1), Y0, Y5 // a·s[i+half]
	VADDPS  Y5, Y4, Y4
	VMOVUPS Y2, (DI)(AX*1)
	VMOVUPS Y4, (DI)(DX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop8

tail:
	MOVQ R12, CX
	TESTQ CX, CX
	JZ   next

loop1:
	LEAQ   (AX)(R13*1), DX
	VMOVSS (DI)(AX*1), X0
	VMOVSS (DI)(DX*1), X1
	VMULSS (R10)(AX*1), X0, X2
	VMULSS (R11)(AX*1), X1, X3
	VSUBSS X3, X2, X2
	VMULSS (R10)(DX*1), X1, X4
	VMULSS (R11)(DX*1), X0, X5
	VADDSS X5, X4, X4
	VMOVSS X2, (DI)(AX*1)
	VMOVSS X4, (DI)(DX*1)
	ADDQ   $4, AX
	DECQ   CX
	JNZ    loop1

next:
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JNZ  head
	VZEROUPPER
	RET
