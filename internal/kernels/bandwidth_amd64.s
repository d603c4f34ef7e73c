//go:build amd64 && !purego

#include "textflag.h"

// The loops of MeasureBandwidth (bandwidth_amd64.go). Eight independent accumulators keep
// eight loads in flight per step, so the loop is bound by memory, not by the add latency.

// func sumBlocksAVX2(p *uint64, blocks int) uint64
TEXT ·sumBlocksAVX2(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  blocks+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7

sum2loop:
	VPADDQ (SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	VPADDQ 64(SI), Y2, Y2
	VPADDQ 96(SI), Y3, Y3
	VPADDQ 128(SI), Y4, Y4
	VPADDQ 160(SI), Y5, Y5
	VPADDQ 192(SI), Y6, Y6
	VPADDQ 224(SI), Y7, Y7
	VPADDQ 256(SI), Y0, Y0
	VPADDQ 288(SI), Y1, Y1
	VPADDQ 320(SI), Y2, Y2
	VPADDQ 352(SI), Y3, Y3
	VPADDQ 384(SI), Y4, Y4
	VPADDQ 416(SI), Y5, Y5
	VPADDQ 448(SI), Y6, Y6
	VPADDQ 480(SI), Y7, Y7
	ADDQ   $512, SI
	DECQ   CX
	JNZ    sum2loop

	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y5, Y4, Y4
	VPADDQ       Y7, Y6, Y6
	VPADDQ       Y2, Y0, Y0
	VPADDQ       Y6, Y4, Y4
	VPADDQ       Y4, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VZEROUPPER
	MOVQ         AX, ret+16(FP)
	RET

// func sumBlocksAVX512(p *uint64, blocks int) uint64
TEXT ·sumBlocksAVX512(SB), NOSPLIT, $0-24
	MOVQ   p+0(FP), SI
	MOVQ   blocks+8(FP), CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7

sum512loop:
	VPADDQ (SI), Z0, Z0
	VPADDQ 64(SI), Z1, Z1
	VPADDQ 128(SI), Z2, Z2
	VPADDQ 192(SI), Z3, Z3
	VPADDQ 256(SI), Z4, Z4
	VPADDQ 320(SI), Z5, Z5
	VPADDQ 384(SI), Z6, Z6
	VPADDQ 448(SI), Z7, Z7
	ADDQ   $512, SI
	DECQ   CX
	JNZ    sum512loop

	VPADDQ        Z1, Z0, Z0
	VPADDQ        Z3, Z2, Z2
	VPADDQ        Z5, Z4, Z4
	VPADDQ        Z7, Z6, Z6
	VPADDQ        Z2, Z0, Z0
	VPADDQ        Z6, Z4, Z4
	VPADDQ        Z4, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4E, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	VZEROUPPER
	MOVQ          AX, ret+16(FP)
	RET

// func copyBlocksAVX2(a, b *float64, blocks int)
TEXT ·copyBlocksAVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ blocks+16(FP), CX

copyloop:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VMOVUPD 64(SI), Y2
	VMOVUPD 96(SI), Y3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     copyloop
	VZEROUPPER
	RET

// func triadBlocksAVX2(a, b, c *float64, q float64, blocks int)
TEXT ·triadBlocksAVX2(SB), NOSPLIT, $0-40
	MOVQ         a+0(FP), DI
	MOVQ         b+8(FP), SI
	MOVQ         c+16(FP), DX
	VBROADCASTSD q+24(FP), Y15
	MOVQ         blocks+32(FP), CX

triadloop:
	VMOVUPD     (DX), Y0
	VMOVUPD     32(DX), Y1
	VMOVUPD     64(DX), Y2
	VMOVUPD     96(DX), Y3
	VFMADD213PD (SI), Y15, Y0
	VFMADD213PD 32(SI), Y15, Y1
	VFMADD213PD 64(SI), Y15, Y2
	VFMADD213PD 96(SI), Y15, Y3
	VMOVUPD     Y0, (DI)
	VMOVUPD     Y1, 32(DI)
	VMOVUPD     Y2, 64(DI)
	VMOVUPD     Y3, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DX
	ADDQ        $128, DI
	DECQ        CX
	JNZ         triadloop
	VZEROUPPER
	RET
