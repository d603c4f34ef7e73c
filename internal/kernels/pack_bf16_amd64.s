//go:build amd64 && !purego

#include "textflag.h"
#include "bf16_amd64.h"

// func packBF16Block8(dst *uint32, x *float32, stride, chunks int)
// Packs chunks × 8 k-pairs of 8 rows of float32 (row r at x + r·stride bytes) as one activation
// block's pairs (gemm_bf16.go): dst[p·8 + r] = row r's pair p rounded by VCVTNEPS2BF16. Per
// chunk, each row's 16 floats become 8 pairs in Y0–Y7 (one VCVTNEPS2BF16 each), and an 8×8
// dword transpose (unpack, shuffle, 128-bit lane permute) turns rows into pairs: 256 bytes out.
TEXT ·packBF16Block8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ stride+16(FP), R8
	MOVQ chunks+24(FP), CX
	LEAQ (R8)(R8*2), R9  // 3·stride
	LEAQ (SI)(R8*4), DI  // row 4
	XORQ AX, AX          // byte offset within the rows
	TESTQ CX, CX
	JLE  done

loop:
	VMOVUPS (SI)(AX*1), Z16
	ADDQ    R8, SI
	VMOVUPS (SI)(AX*1), Z17
	ADDQ    R8, SI
	VMOVUPS (SI)(AX*1), Z18
	ADDQ    R8, SI
	VMOVUPS (SI)(AX*1), Z19
	SUBQ    R9, SI
	VMOVUPS (DI)(AX*1), Z20
	ADDQ    R8, DI
	VMOVUPS (DI)(AX*1), Z21
	ADDQ    R8, DI
	VMOVUPS (DI)(AX*1), Z22
	ADDQ    R8, DI
	VMOVUPS (DI)(AX*1), Z23
	SUBQ    R9, DI
	VCVTNEPS2BF16_Y0_Z16
	VCVTNEPS2BF16_Y1_Z17
	VCVTNEPS2BF16_Y2_Z18
	VCVTNEPS2BF16_Y3_Z19
	VCVTNEPS2BF16_Y4_Z20
	VCVTNEPS2BF16_Y5_Z21
	VCVTNEPS2BF16_Y6_Z22
	VCVTNEPS2BF16_Y7_Z23

	// Yr holds row r's pairs 0–7. Interleave rows 2j and 2j+1 (per 128-bit lane).
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	// Rows 0–3 (Y0–Y3) and 4–7 (Y4–Y7) of pairs q | q+4, q = 0…3.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	// Pair p: rows 0–3 then 4–7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVDQU Y8, (DX)
	VMOVDQU Y9, 32(DX)
	VMOVDQU Y10, 64(DX)
	VMOVDQU Y11, 96(DX)
	VMOVDQU Y12, 128(DX)
	VMOVDQU Y13, 160(DX)
	VMOVDQU Y14, 192(DX)
	VMOVDQU Y15, 224(DX)
	ADDQ $256, DX
	ADDQ $64, AX
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func packBF16KeyPairs(dst *uint32, r0, r1 *float32, n int)
// Packs n columns (n a multiple of 16) of two float32 rows as bf16 pairs, column by column:
// dst[c] = (r0[c], r1[c]) rounded by VCVTNEPS2BF16, r0's in the low half (AttentionBF16's V
// panels: the pairs of keys 2j, 2j+1). Per 16 columns: one VCVTNEPS2BF16 per row, a word
// interleave within each 128-bit lane (VPUNPCKLWD, VPUNPCKHWD), a lane permute to restore
// column order; 64 bytes out.
TEXT ·packBF16KeyPairs(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   pairsdone

pairs:
	VMOVUPS (SI), Z16
	VMOVUPS (DX), Z17
	VCVTNEPS2BF16_Y0_Z16
	VCVTNEPS2BF16_Y1_Z17
	VPUNPCKLWD Y1, Y0, Y2        // columns 0–3 | 8–11
	VPUNPCKHWD Y1, Y0, Y3        // columns 4–7 | 12–15
	VPERM2I128 $0x20, Y3, Y2, Y4 // columns 0–7
	VPERM2I128 $0x31, Y3, Y2, Y5 // columns 8–15
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  pairs

pairsdone:
	VZEROUPPER
	RET

// func packBF16Row16(dst *uint32, x *float32, chunks int)
// Packs chunks × 16 floats of one row as the one-row kernels read them (packBF16Row):
// VCVTNEPS2BF16 keeps the order, so 16 floats become their 8 pairs, 32 bytes out.
TEXT ·packBF16Row16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ chunks+16(FP), CX
	TESTQ CX, CX
	JLE  rowdone

rowloop:
	VMOVUPS (SI), Z16
	VCVTNEPS2BF16_Y0_Z16
	VMOVDQU Y0, (DX)
	ADDQ    $64, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     rowloop

rowdone:
	VZEROUPPER
	RET
