//go:build amd64 && !purego

#include "textflag.h"
#include "bf16_amd64.h"

// func gemmBF16Tile(a *uint32, b *uint16, c *float32, ldc, kp int, bias *float32, add int, scale *float32)
// (scale, when not nil, holds one factor per row: c = (dot + bias) + scale[r]·c with add,
// c = scale[r]·(dot + bias) without.)
// One 8×32 tile of the bf16 GEMM (gemm_bf16.go): c[r·ldc + j] = the VDPBF16PS dot product of
// block row r and panel column j over kp k-pairs, from zero, plus bias[j] where bias is not
// nil, plus c's value where add ≠ 0 (c = c + (dot + bias), as gemmBF16TileGo). Accumulators Z(2r) (columns
// 0–15) and Z(2r+1) (16–31); per k-pair the panel's 128 bytes are loaded into two registers
// (Z16, Z17, and Z18, Z19 for the second pair of a step) and row r's pair is broadcast from
// the block ([SI + 4r]{1to16}). Two k-pairs per step, then one if kp is odd.
TEXT ·gemmBF16Tile(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ c+16(FP), DI
	MOVQ ldc+24(FP), R8
	MOVQ kp+32(FP), CX
	MOVQ bias+40(FP), R9
	MOVQ add+48(FP), R10
	MOVQ scale+56(FP), R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ CX, BX
	SHRQ $1, BX
	JZ   tail

loop:
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VMOVDQU32 128(DX), Z18
	VMOVDQU32 192(DX), Z19
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0
	VDPBF16PS_Z2_Z16_BCST_SI_4
	VDPBF16PS_Z3_Z17_BCST_SI_4
	VDPBF16PS_Z4_Z16_BCST_SI_8
	VDPBF16PS_Z5_Z17_BCST_SI_8
	VDPBF16PS_Z6_Z16_BCST_SI_12
	VDPBF16PS_Z7_Z17_BCST_SI_12
	VDPBF16PS_Z8_Z16_BCST_SI_16
	VDPBF16PS_Z9_Z17_BCST_SI_16
	VDPBF16PS_Z10_Z16_BCST_SI_20
	VDPBF16PS_Z11_Z17_BCST_SI_20
	VDPBF16PS_Z12_Z16_BCST_SI_24
	VDPBF16PS_Z13_Z17_BCST_SI_24
	VDPBF16PS_Z14_Z16_BCST_SI_28
	VDPBF16PS_Z15_Z17_BCST_SI_28
	VDPBF16PS_Z0_Z18_BCST_SI_32
	VDPBF16PS_Z1_Z19_BCST_SI_32
	VDPBF16PS_Z2_Z18_BCST_SI_36
	VDPBF16PS_Z3_Z19_BCST_SI_36
	VDPBF16PS_Z4_Z18_BCST_SI_40
	VDPBF16PS_Z5_Z19_BCST_SI_40
	VDPBF16PS_Z6_Z18_BCST_SI_44
	VDPBF16PS_Z7_Z19_BCST_SI_44
	VDPBF16PS_Z8_Z18_BCST_SI_48
	VDPBF16PS_Z9_Z19_BCST_SI_48
	VDPBF16PS_Z10_Z18_BCST_SI_52
	VDPBF16PS_Z11_Z19_BCST_SI_52
	VDPBF16PS_Z12_Z18_BCST_SI_56
	VDPBF16PS_Z13_Z19_BCST_SI_56
	VDPBF16PS_Z14_Z18_BCST_SI_60
	VDPBF16PS_Z15_Z19_BCST_SI_60
	PREFETCHT0 512(DX)
	ADDQ $64, SI
	ADDQ $256, DX
	DECQ BX
	JNZ  loop

tail:
	TESTQ $1, CX
	JZ    store
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0
	VDPBF16PS_Z2_Z16_BCST_SI_4
	VDPBF16PS_Z3_Z17_BCST_SI_4
	VDPBF16PS_Z4_Z16_BCST_SI_8
	VDPBF16PS_Z5_Z17_BCST_SI_8
	VDPBF16PS_Z6_Z16_BCST_SI_12
	VDPBF16PS_Z7_Z17_BCST_SI_12
	VDPBF16PS_Z8_Z16_BCST_SI_16
	VDPBF16PS_Z9_Z17_BCST_SI_16
	VDPBF16PS_Z10_Z16_BCST_SI_20
	VDPBF16PS_Z11_Z17_BCST_SI_20
	VDPBF16PS_Z12_Z16_BCST_SI_24
	VDPBF16PS_Z13_Z17_BCST_SI_24
	VDPBF16PS_Z14_Z16_BCST_SI_28
	VDPBF16PS_Z15_Z17_BCST_SI_28

store:
	SHLQ $2, R8
	TESTQ R9, R9
	JZ    added
	VMOVUPS (R9), Z16
	VMOVUPS 64(R9), Z17
	VADDPS Z16, Z0, Z0
	VADDPS Z17, Z1, Z1
	VADDPS Z16, Z2, Z2
	VADDPS Z17, Z3, Z3
	VADDPS Z16, Z4, Z4
	VADDPS Z17, Z5, Z5
	VADDPS Z16, Z6, Z6
	VADDPS Z17, Z7, Z7
	VADDPS Z16, Z8, Z8
	VADDPS Z17, Z9, Z9
	VADDPS Z16, Z10, Z10
	VADDPS Z17, Z11, Z11
	VADDPS Z16, Z12, Z12
	VADDPS Z17, Z13, Z13
	VADDPS Z16, Z14, Z14
	VADDPS Z17, Z15, Z15

added:
	TESTQ R10, R10
	JZ    unadded
	TESTQ R11, R11
	JNZ   scaled
	VADDPS (DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z2, Z2
	VADDPS 64(DI), Z3, Z3
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z4, Z4
	VADDPS 64(DI), Z5, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z6, Z6
	VADDPS 64(DI), Z7, Z7
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z8, Z8
	VADDPS 64(DI), Z9, Z9
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z10, Z10
	VADDPS 64(DI), Z11, Z11
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z12, Z12
	VADDPS 64(DI), Z13, Z13
	VMOVUPS Z12, (DI)
	VMOVUPS Z13, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z14, Z14
	VADDPS 64(DI), Z15, Z15
	VMOVUPS Z14, (DI)
	VMOVUPS Z15, 64(DI)
	VZEROUPPER
	RET

unadded:
	TESTQ R11, R11
	JZ    plain
	// c = scale[r]·(dot + bias)
	VBROADCASTSS 0(R11), Z16
	VMULPS Z0, Z16, Z0
	VMULPS Z1, Z16, Z1
	VBROADCASTSS 4(R11), Z16
	VMULPS Z2, Z16, Z2
	VMULPS Z3, Z16, Z3
	VBROADCASTSS 8(R11), Z16
	VMULPS Z4, Z16, Z4
	VMULPS Z5, Z16, Z5
	VBROADCASTSS 12(R11), Z16
	VMULPS Z6, Z16, Z6
	VMULPS Z7, Z16, Z7
	VBROADCASTSS 16(R11), Z16
	VMULPS Z8, Z16, Z8
	VMULPS Z9, Z16, Z9
	VBROADCASTSS 20(R11), Z16
	VMULPS Z10, Z16, Z10
	VMULPS Z11, Z16, Z11
	VBROADCASTSS 24(R11), Z16
	VMULPS Z12, Z16, Z12
	VMULPS Z13, Z16, Z13
	VBROADCASTSS 28(R11), Z16
	VMULPS Z14, Z16, Z14
	VMULPS Z15, Z16, Z15

plain:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z12, (DI)
	VMOVUPS Z13, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z14, (DI)
	VMOVUPS Z15, 64(DI)
	VZEROUPPER
	RET

// SCALEDROW stores one row of the tile as (dot + bias) + scale[r]·c: lo, hi hold the row's
// dot + bias, off(R11) its scale, (DI) its 32 floats of c.
#define SCALEDROW(off, lo, hi) \
	VBROADCASTSS off(R11), Z16 \
	VMULPS       (DI), Z16, Z17 \
	VMULPS       64(DI), Z16, Z18 \
	VADDPS       Z17, lo, lo \
	VADDPS       Z18, hi, hi \
	VMOVUPS      lo, (DI) \
	VMOVUPS      hi, 64(DI)

scaled:
	SCALEDROW(0, Z0, Z1)
	ADDQ R8, DI
	SCALEDROW(4, Z2, Z3)
	ADDQ R8, DI
	SCALEDROW(8, Z4, Z5)
	ADDQ R8, DI
	SCALEDROW(12, Z6, Z7)
	ADDQ R8, DI
	SCALEDROW(16, Z8, Z9)
	ADDQ R8, DI
	SCALEDROW(20, Z10, Z11)
	ADDQ R8, DI
	SCALEDROW(24, Z12, Z13)
	ADDQ R8, DI
	SCALEDROW(28, Z14, Z15)
	VZEROUPPER
	RET

// func gemmBF16Tile4(a *uint32, b *uint16, c *float32, ldc, kp int, bias *float32, add int)
// Rows 0–3 of gemmBF16Tile (no scale): c[r·ldc + j] for r < 4, bit for bit what the 8-row tile
// gives those rows, from the same packed 8-row block (row r's pair p at a + 32p + 4r bytes),
// with half the products: a block of m − 8⌊m/8⌋ ≤ 4 rows, the last of a call's rows, costs half
// a tile. Accumulators Z(2r) and Z(2r+1), two k-pairs per step as gemmBF16Tile.
TEXT ·gemmBF16Tile4(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ c+16(FP), DI
	MOVQ ldc+24(FP), R8
	MOVQ kp+32(FP), CX
	MOVQ bias+40(FP), R9
	MOVQ add+48(FP), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ CX, BX
	SHRQ $1, BX
	JZ   t4tail

t4loop:
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VMOVDQU32 128(DX), Z18
	VMOVDQU32 192(DX), Z19
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0
	VDPBF16PS_Z2_Z16_BCST_SI_4
	VDPBF16PS_Z3_Z17_BCST_SI_4
	VDPBF16PS_Z4_Z16_BCST_SI_8
	VDPBF16PS_Z5_Z17_BCST_SI_8
	VDPBF16PS_Z6_Z16_BCST_SI_12
	VDPBF16PS_Z7_Z17_BCST_SI_12
	VDPBF16PS_Z0_Z18_BCST_SI_32
	VDPBF16PS_Z1_Z19_BCST_SI_32
	VDPBF16PS_Z2_Z18_BCST_SI_36
	VDPBF16PS_Z3_Z19_BCST_SI_36
	VDPBF16PS_Z4_Z18_BCST_SI_40
	VDPBF16PS_Z5_Z19_BCST_SI_40
	VDPBF16PS_Z6_Z18_BCST_SI_44
	VDPBF16PS_Z7_Z19_BCST_SI_44
	PREFETCHT0 512(DX)
	ADDQ $64, SI
	ADDQ $256, DX
	DECQ BX
	JNZ  t4loop

t4tail:
	TESTQ $1, CX
	JZ    t4store
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0
	VDPBF16PS_Z2_Z16_BCST_SI_4
	VDPBF16PS_Z3_Z17_BCST_SI_4
	VDPBF16PS_Z4_Z16_BCST_SI_8
	VDPBF16PS_Z5_Z17_BCST_SI_8
	VDPBF16PS_Z6_Z16_BCST_SI_12
	VDPBF16PS_Z7_Z17_BCST_SI_12

t4store:
	SHLQ $2, R8
	TESTQ R9, R9
	JZ    t4added
	VMOVUPS (R9), Z16
	VMOVUPS 64(R9), Z17
	VADDPS Z16, Z0, Z0
	VADDPS Z17, Z1, Z1
	VADDPS Z16, Z2, Z2
	VADDPS Z17, Z3, Z3
	VADDPS Z16, Z4, Z4
	VADDPS Z17, Z5, Z5
	VADDPS Z16, Z6, Z6
	VADDPS Z17, Z7, Z7

t4added:
	TESTQ R10, R10
	JZ    t4plain
	VADDPS (DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z2, Z2
	VADDPS 64(DI), Z3, Z3
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z4, Z4
	VADDPS 64(DI), Z5, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z6, Z6
	VADDPS 64(DI), Z7, Z7
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

t4plain:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

// func gemvBF16Dot(a *uint32, b *uint16, c *float32, kp int, bias *float32, add int)
// Row 0 of gemmBF16Tile: c[j] = the VDPBF16PS dot product of one row (a's pair p at a + 4p
// bytes: packBF16Row's layout, one row's pairs back to back) and panel column j over kp k-pairs, from zero, plus bias[j]
// where bias is not nil, plus c's value where add ≠ 0: bit for bit the tile's row 0, reading
// the panel once without the seven other rows' products (the decode step's matrix-vector
// product). Accumulators Z0 (columns 0–15) and Z1 (16–31), two k-pairs per step.
TEXT ·gemvBF16Dot(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ c+16(FP), DI
	MOVQ kp+24(FP), CX
	MOVQ bias+32(FP), R9
	MOVQ add+40(FP), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ CX, BX
	SHRQ $1, BX
	JZ   gvtail

gvloop:
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VMOVDQU32 128(DX), Z18
	VMOVDQU32 192(DX), Z19
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0
	VDPBF16PS_Z0_Z18_BCST_SI_4
	VDPBF16PS_Z1_Z19_BCST_SI_4
	ADDQ $8, SI
	ADDQ $256, DX
	DECQ BX
	JNZ  gvloop

gvtail:
	TESTQ $1, CX
	JZ    gvstore
	VMOVDQU32 (DX), Z16
	VMOVDQU32 64(DX), Z17
	VDPBF16PS_Z0_Z16_BCST_SI_0
	VDPBF16PS_Z1_Z17_BCST_SI_0

gvstore:
	TESTQ R9, R9
	JZ    gvadd
	VADDPS (R9), Z0, Z0
	VADDPS 64(R9), Z1, Z1

gvadd:
	TESTQ R10, R10
	JZ    gvplain
	VADDPS (DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1

gvplain:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VZEROUPPER
	RET

// GV4PAIR performs one k-pair of gemvBF16Dot4: the row's pair at off(SI) broadcast into Z31,
// then for each of the four panels its two 16-column halves (at the panel's base + off2) into
// Z30, one VDPBF16PS each (Z30 renamed per load; the accumulators' chains stay in k order).
#define GV4PAIR(off, off2) \
	VPBROADCASTD off(SI), Z31 \
	VMOVDQU32    off2(DX), Z30 \
	VDPBF16PS_Z0_Z30_Z31 \
	VMOVDQU32    off2+64(DX), Z30 \
	VDPBF16PS_Z1_Z30_Z31 \
	VMOVDQU32    off2(DX)(R8*1), Z30 \
	VDPBF16PS_Z2_Z30_Z31 \
	VMOVDQU32    off2+64(DX)(R8*1), Z30 \
	VDPBF16PS_Z3_Z30_Z31 \
	VMOVDQU32    off2(DX)(R8*2), Z30 \
	VDPBF16PS_Z4_Z30_Z31 \
	VMOVDQU32    off2+64(DX)(R8*2), Z30 \
	VDPBF16PS_Z5_Z30_Z31 \
	VMOVDQU32    off2(DX)(R9*1), Z30 \
	VDPBF16PS_Z6_Z30_Z31 \
	VMOVDQU32    off2+64(DX)(R9*1), Z30 \
	VDPBF16PS_Z7_Z30_Z31

// GV4OUT finishes one 16-column half: + bias (off(R10)) where R10 ≠ 0, + c where R11 ≠ 0, stored.
#define GV4OUT(z, off) \
	TESTQ   R10, R10 \
	JZ      2(PC) \
	VADDPS  off(R10), z, z \
	TESTQ   R11, R11 \
	JZ      2(PC) \
	VADDPS  off(DI), z, z \
	VMOVUPS z, off(DI)

// func gemvBF16Dot4(a *uint32, b *uint16, c *float32, kp int, bias *float32, add int)
// gemvBF16Dot on four consecutive weight panels at once (b: 4 × 64·kp uint16; c, bias: 128
// floats): eight accumulator chains instead of two, so the loads, not VDPBF16PS's latency, set
// the pace of a decode step. Each output is computed exactly as gemvBF16Dot (and the tile's
// row 0) computes it: one VDPBF16PS per k-pair in order, from zero, then + bias, then + c.
TEXT ·gemvBF16Dot4(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ c+16(FP), DI
	MOVQ kp+24(FP), CX
	MOVQ bias+32(FP), R10
	MOVQ add+40(FP), R11
	MOVQ CX, R8
	SHLQ $7, R8          // panel stride: 128·kp bytes
	LEAQ (R8)(R8*2), R9  // 3 strides
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ CX, BX
	SHRQ $1, BX
	JZ   g4tail

g4loop:
	GV4PAIR(0, 0)
	GV4PAIR(4, 128)
	ADDQ $8, SI
	ADDQ $256, DX
	DECQ BX
	JNZ  g4loop

g4tail:
	TESTQ $1, CX
	JZ    g4store
	GV4PAIR(0, 0)

g4store:
	GV4OUT(Z0, 0)
	GV4OUT(Z1, 64)
	GV4OUT(Z2, 128)
	GV4OUT(Z3, 192)
	GV4OUT(Z4, 256)
	GV4OUT(Z5, 320)
	GV4OUT(Z6, 384)
	GV4OUT(Z7, 448)
	VZEROUPPER
	RET
