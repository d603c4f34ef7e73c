//go:build amd64 && !purego

#include "textflag.h"

// func layerNormRowVec(dst, x, w, b *float32, n int, eps float64)
// One row of LayerNorm (norm.go) in float64 on 4 lanes, n a positive multiple of 8:
//
//	mean = Σx/n;  var = Σ(x − mean)²/n;  r = 1/√(var + eps);  dst = (x − mean)·r·w + b
//
// with every value widened to float64 and the result rounded once to float32. The sums run in
// two chains of 4 lanes, added pairwise at the end. dst may equal x.
TEXT ·layerNormRowVec(SB), NOSPLIT, $0-48
	MOVQ x+8(FP), SI
	MOVQ n+32(FP), CX
	MOVQ CX, BX
	SHRQ $3, BX

	// Σx.
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ   SI, AX
	MOVQ   BX, DX

sum:
	VCVTPS2PD (AX), Y2
	VCVTPS2PD 16(AX), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $32, AX
	DECQ      DX
	JNZ       sum
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VCVTSI2SDQ   CX, X15, X15          // n
	VDIVSD       X15, X0, X0           // mean
	VBROADCASTSD X0, Y4

	// Σ(x − mean)².
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ   SI, AX
	MOVQ   BX, DX

sq:
	VCVTPS2PD   (AX), Y2
	VCVTPS2PD   16(AX), Y3
	VSUBPD      Y4, Y2, Y2
	VSUBPD      Y4, Y3, Y3
	VFMADD231PD Y2, Y2, Y0
	VFMADD231PD Y3, Y3, Y1
	ADDQ        $32, AX
	DECQ        DX
	JNZ         sq
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VDIVSD       X15, X0, X0           // variance
	VADDSD       eps+40(FP), X0, X0
	VSQRTSD      X0, X0, X0
	MOVQ         $0x3ff0000000000000, AX
	MOVQ         AX, X1
	VDIVSD       X0, X1, X0            // 1/√(var + eps)
	VBROADCASTSD X0, Y5

	// dst = (x − mean)·r·w + b, four at a time.
	MOVQ dst+0(FP), DI
	MOVQ w+16(FP), R8
	MOVQ b+24(FP), R9
	SHLQ $1, BX                        // groups of 4

norm:
	VCVTPS2PD   (SI), Y2
	VCVTPS2PD   (R8), Y3
	VCVTPS2PD   (R9), Y6
	VSUBPD      Y4, Y2, Y2
	VMULPD      Y5, Y2, Y2
	VFMADD213PD Y6, Y3, Y2             // ·w + b
	VCVTPD2PSY  Y2, X2
	VMOVUPS     X2, (DI)
	ADDQ        $16, SI
	ADDQ        $16, R8
	ADDQ        $16, R9
	ADDQ        $16, DI
	DECQ        BX
	JNZ         norm

	VZEROUPPER
	RET
