//go:build amd64 && !purego

#include "textflag.h"

// The matrix-vector kernels of Linear.Forward for few rows (gemv_amd64.go): one row of x times
// n consecutive weight micro-panels of one K-block (pack.go's layout: panel q of the K-block is
// k × 16 weights, k-major, and panel q+1 follows it), read where NewLinear packed them.
//
// Each output column is one FMA chain from zero over the k steps in order, then the bias, then
// c's old value: the arithmetic of row 0 of kernel6x16, so a row gives the same bits here as
// in a batch. Several panels run at once as as many sequential streams (AVX2: four panels,
// eight YMM accumulators; AVX-512: eight, then four, one ZMM accumulator each), enough
// independent chains to hide the FMA latency; the last few panels one at a time.
//
// The hardware prefetchers follow each stream once it runs, but a K-block's stretch of a panel
// is only kb·64 (f32) or kb·32 (bf16) bytes, so every call starts new streams, far from the
// last ones (the next K-block of the same panels is P·kb·16 weights on). So while they sweep
// the panels, the group loops prefetch into L2 (PREFETCHT1), one 64-byte line for each line
// they read, the region the caller reads next (next: the same panels' next K-block, or the
// next group's first): when the kernel gets there, it is in L2, not in memory. This replaced
// a prefetch 1 KiB ahead in each stream, which measured slower than none (AMD EPYC, Zen 4).
//
// Register use (AVX2 kernels):
//   Y0..Y7    accumulators: panel g of the group in Y(2g) (columns 0–7) and Y(2g+1) (8–15)
//   Y8..Y13   bf16 weights, widened (bf16 kernel only); Y14 its mask 0xFFFF0000
//   Y15       x[p] broadcast
//   CX k, SI x, DI first panel of the group, BX panels left, DX c, R9 bias (or 0),
//   R10 prefetch cursor (next), R11 panel stride in bytes, R12 3·R11, AX panel cursor,
//   R13 k counter, R14 x cursor; the accumulate flag is read from the frame

// BIAS4 adds the 64 floats at R9 to the four panels' accumulators and advances R9; ADDC4 adds
// c's 64 old values at DX; STORE4 stores them at DX and advances DX. BIAS1, ADDC1, STORE1 are
// the same for one panel (Y0, Y1).
#define BIAS4 \
	VADDPS (R9), Y0, Y0    \
	VADDPS 32(R9), Y1, Y1  \
	VADDPS 64(R9), Y2, Y2  \
	VADDPS 96(R9), Y3, Y3  \
	VADDPS 128(R9), Y4, Y4 \
	VADDPS 160(R9), Y5, Y5 \
	VADDPS 192(R9), Y6, Y6 \
	VADDPS 224(R9), Y7, Y7 \
	ADDQ   $256, R9

#define ADDC4 \
	VADDPS (DX), Y0, Y0    \
	VADDPS 32(DX), Y1, Y1  \
	VADDPS 64(DX), Y2, Y2  \
	VADDPS 96(DX), Y3, Y3  \
	VADDPS 128(DX), Y4, Y4 \
	VADDPS 160(DX), Y5, Y5 \
	VADDPS 192(DX), Y6, Y6 \
	VADDPS 224(DX), Y7, Y7

#define STORE4 \
	VMOVUPS Y0, (DX)    \
	VMOVUPS Y1, 32(DX)  \
	VMOVUPS Y2, 64(DX)  \
	VMOVUPS Y3, 96(DX)  \
	VMOVUPS Y4, 128(DX) \
	VMOVUPS Y5, 160(DX) \
	VMOVUPS Y6, 192(DX) \
	VMOVUPS Y7, 224(DX) \
	ADDQ    $256, DX

#define BIAS1 \
	VADDPS (R9), Y0, Y0   \
	VADDPS 32(R9), Y1, Y1 \
	ADDQ   $64, R9

#define ADDC1 \
	VADDPS (DX), Y0, Y0   \
	VADDPS 32(DX), Y1, Y1

#define STORE1 \
	VMOVUPS Y0, (DX)   \
	VMOVUPS Y1, 32(DX) \
	ADDQ    $64, DX

// PREFETCH4 prefetches the 256 bytes at R10 into L2 and advances R10: the lines of next for one
// 64-byte line read from each of four panels.
#define PREFETCH4 \
	PREFETCHT1 (R10)    \
	PREFETCHT1 64(R10)  \
	PREFETCHT1 128(R10) \
	PREFETCHT1 192(R10) \
	ADDQ       $256, R10

// BFSTEP4 is one k-step of the bf16 kernel's four panels: x[p] at xoff(R14), the panels' 16
// weights each at boff(AX) + g·R11. The 32 bytes of a panel's step are 8 dwords, each two bf16
// weights (column 2i in the low half, 2i+1 in the high): shifting the dwords left by 16 widens
// the even columns, masking off the low halves (Y14 = 0xFFFF0000 per dword) the odd ones, two
// ALU operations and no shuffle per 16 weights. The accumulators hold the columns in that
// order (Y(2g) the even, Y(2g+1) the odd) until UNZIP puts them back.
#define BFSTEP4(xoff, boff) \
	VBROADCASTSS xoff(R14), Y15         \
	VMOVDQU      boff(AX), Y8           \
	VMOVDQU      boff(AX)(R11*1), Y9    \
	VMOVDQU      boff(AX)(R11*2), Y10   \
	VMOVDQU      boff(AX)(R12*1), Y11   \
	VPSLLD       $16, Y8, Y12           \
	VPAND        Y14, Y8, Y8            \
	VPSLLD       $16, Y9, Y13           \
	VPAND        Y14, Y9, Y9            \
	VFMADD231PS  Y12, Y15, Y0           \
	VFMADD231PS  Y8, Y15, Y1            \
	VFMADD231PS  Y13, Y15, Y2           \
	VFMADD231PS  Y9, Y15, Y3            \
	VPSLLD       $16, Y10, Y12          \
	VPAND        Y14, Y10, Y10          \
	VPSLLD       $16, Y11, Y13          \
	VPAND        Y14, Y11, Y11          \
	VFMADD231PS  Y12, Y15, Y4           \
	VFMADD231PS  Y10, Y15, Y5           \
	VFMADD231PS  Y13, Y15, Y6           \
	VFMADD231PS  Y11, Y15, Y7

// BFSTEP1 is BFSTEP4 for one panel (Y0 even columns, Y1 odd).
#define BFSTEP1(xoff, boff) \
	VBROADCASTSS xoff(R14), Y15 \
	VMOVDQU      boff(AX), Y8   \
	VPSLLD       $16, Y8, Y12   \
	VPAND        Y14, Y8, Y8    \
	VFMADD231PS  Y12, Y15, Y0   \
	VFMADD231PS  Y8, Y15, Y1

// UNZIP turns a panel's accumulators E (columns 0, 2, …, 14) and O (1, 3, …, 15) into E
// (columns 0–7) and O (8–15), moving values only; Y8, Y9 are scratch.
#define UNZIP(E, O) \
	VUNPCKLPS  O, E, Y8      \
	VUNPCKHPS  O, E, Y9      \
	VPERM2F128 $0x20, Y9, Y8, E \
	VPERM2F128 $0x31, Y9, Y8, O

#define ZERO8 \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7

// func gemvPanels(k int, x, b *float32, n int, c, bias *float32, accumulate bool, next *float32)
TEXT ·gemvPanels(SB), NOSPLIT, $0-64
	MOVQ    k+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    b+16(FP), DI
	MOVQ    n+24(FP), BX
	MOVQ    c+32(FP), DX
	MOVQ    bias+40(FP), R9
	MOVQ    next+56(FP), R10
	MOVQ    CX, R11
	SHLQ    $6, R11              // k·16 floats
	LEAQ    (R11)(R11*2), R12

f32group:
	CMPQ BX, $4
	JLT  f32single
	ZERO8
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13

f32loop4:
	PREFETCH4
	VBROADCASTSS (R14), Y15
	VFMADD231PS  (AX), Y15, Y0
	VFMADD231PS  32(AX), Y15, Y1
	VFMADD231PS  (AX)(R11*1), Y15, Y2
	VFMADD231PS  32(AX)(R11*1), Y15, Y3
	VFMADD231PS  (AX)(R11*2), Y15, Y4
	VFMADD231PS  32(AX)(R11*2), Y15, Y5
	VFMADD231PS  (AX)(R12*1), Y15, Y6
	VFMADD231PS  32(AX)(R12*1), Y15, Y7
	ADDQ         $4, R14
	ADDQ         $64, AX
	DECQ         R13
	JNZ          f32loop4

	TESTQ R9, R9
	JZ    f32gnobias
	BIAS4

f32gnobias:
	CMPB accumulate+48(FP), $0
	JEQ  f32gstore
	ADDC4

f32gstore:
	STORE4
	LEAQ (DI)(R11*4), DI
	SUBQ $4, BX
	JMP  f32group

f32single:
	TESTQ BX, BX
	JZ    f32done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ  SI, R14
	MOVQ  DI, AX
	MOVQ  CX, R13

f32loop1:
	VBROADCASTSS (R14), Y15
	VFMADD231PS  (AX), Y15, Y0
	VFMADD231PS  32(AX), Y15, Y1
	ADDQ         $4, R14
	ADDQ         $64, AX
	DECQ         R13
	JNZ          f32loop1

	TESTQ R9, R9
	JZ    f32snobias
	BIAS1

f32snobias:
	CMPB accumulate+48(FP), $0
	JEQ  f32sstore
	ADDC1

f32sstore:
	STORE1
	ADDQ R11, DI
	DECQ BX
	JMP  f32single

f32done:
	VZEROUPPER
	RET

// func gemvPanelsBF16(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, next *uint16)
TEXT ·gemvPanelsBF16(SB), NOSPLIT, $0-64
	MOVQ    k+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    b+16(FP), DI
	MOVQ    n+24(FP), BX
	MOVQ    c+32(FP), DX
	MOVQ    bias+40(FP), R9
	MOVQ    next+56(FP), R10
	MOVQ    CX, R11
	SHLQ    $5, R11              // k·16 bf16 values
	LEAQ    (R11)(R11*2), R12
	VPCMPEQD Y14, Y14, Y14
	VPSLLD   $16, Y14, Y14       // 0xFFFF0000 in every dword

bfgroup:
	CMPQ BX, $4
	JLT  bfsingle
	ZERO8
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13

	SHRQ $1, R13
	JZ   bftail4

bfloop4:
	// Two k-steps: one 64-byte line of each of the four panels.
	PREFETCH4
	BFSTEP4(0, 0)
	BFSTEP4(4, 32)
	ADDQ         $8, R14
	ADDQ         $64, AX
	DECQ         R13
	JNZ          bfloop4

bftail4:
	TESTQ $1, CX
	JZ    bfend4
	BFSTEP4(0, 0)

bfend4:
	UNZIP(Y0, Y1)
	UNZIP(Y2, Y3)
	UNZIP(Y4, Y5)
	UNZIP(Y6, Y7)

	TESTQ R9, R9
	JZ    bfgnobias
	BIAS4

bfgnobias:
	CMPB accumulate+48(FP), $0
	JEQ  bfgstore
	ADDC4

bfgstore:
	STORE4
	LEAQ (DI)(R11*4), DI
	SUBQ $4, BX
	JMP  bfgroup

bfsingle:
	TESTQ BX, BX
	JZ    bfdone
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ  SI, R14
	MOVQ  DI, AX
	MOVQ  CX, R13

bfloop1:
	BFSTEP1(0, 0)
	ADDQ         $4, R14
	ADDQ         $32, AX
	DECQ         R13
	JNZ          bfloop1
	UNZIP(Y0, Y1)

	TESTQ R9, R9
	JZ    bfsnobias
	BIAS1

bfsnobias:
	CMPB accumulate+48(FP), $0
	JEQ  bfsstore
	ADDC1

bfsstore:
	STORE1
	ADDQ R11, DI
	DECQ BX
	JMP  bfsingle

bfdone:
	VZEROUPPER
	RET
