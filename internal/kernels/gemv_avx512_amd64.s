//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 GEMV kernels (gemv_amd64.go): gemvPanels and gemvPanelsBF16 with one ZMM
// register per panel, the 16 columns of a k-step in column order. The arithmetic is the same
// (each column one FMA chain from zero over the k steps in order, then the bias, then c's old
// value), so are the results, bit for bit; the 32 registers let eight panels run at once
// (eight chains), then four, then one at a time, and a bf16 step is widened by VPMOVZXWD
// (16 words into the low halves of 16 dwords) and a shift left by 16, with no unzipping at
// the end. The group loops prefetch next into L2 as the AVX2 kernels do (gemv_amd64.s).
//
// Register use:
//   Z0..Z7    accumulators, panel g of the group in Z(g)
//   Z16..Z23  the weights of a step, panel g in Z(16+g) (bf16: widened)
//   Z31       x[p] broadcast
//   CX k, SI x, DI first panel of the group, BX panels left, DX c, R9 bias (or 0),
//   R10 prefetch cursor (next), R11 panel stride in bytes, R12 3·R11, AX cursor of panels
//   0–3, R8 of panels 4–7, R13 k counter, R14 x cursor; the accumulate flag is read from the frame

// ZBF8 is one k-step of the bf16 kernel's eight panels: x[p] at xoff(R14), panel g's 16 weights
// at boff of its cursor, widened (exactly: the bits shifted into the high half of a float32).
// ZBF4 and ZBF1 are the same for four panels and one.
#define ZBF8(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31    \
	VPMOVZXWD boff(AX), Z16        \
	VPMOVZXWD boff(AX)(R11*1), Z17 \
	VPMOVZXWD boff(AX)(R11*2), Z18 \
	VPMOVZXWD boff(AX)(R12*1), Z19 \
	VPMOVZXWD boff(R8), Z20        \
	VPMOVZXWD boff(R8)(R11*1), Z21 \
	VPMOVZXWD boff(R8)(R11*2), Z22 \
	VPMOVZXWD boff(R8)(R12*1), Z23 \
	VPSLLD $16, Z16, Z16           \
	VPSLLD $16, Z17, Z17           \
	VPSLLD $16, Z18, Z18           \
	VPSLLD $16, Z19, Z19           \
	VPSLLD $16, Z20, Z20           \
	VPSLLD $16, Z21, Z21           \
	VPSLLD $16, Z22, Z22           \
	VPSLLD $16, Z23, Z23           \
	VFMADD231PS Z16, Z31, Z0       \
	VFMADD231PS Z17, Z31, Z1       \
	VFMADD231PS Z18, Z31, Z2       \
	VFMADD231PS Z19, Z31, Z3       \
	VFMADD231PS Z20, Z31, Z4       \
	VFMADD231PS Z21, Z31, Z5       \
	VFMADD231PS Z22, Z31, Z6       \
	VFMADD231PS Z23, Z31, Z7

// ZF8 is one k-step of the f32 kernel's eight panels (ZF4, ZF1: four, one).
#define ZF8(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31          \
	VFMADD231PS boff(AX), Z31, Z0        \
	VFMADD231PS boff(AX)(R11*1), Z31, Z1 \
	VFMADD231PS boff(AX)(R11*2), Z31, Z2 \
	VFMADD231PS boff(AX)(R12*1), Z31, Z3 \
	VFMADD231PS boff(R8), Z31, Z4        \
	VFMADD231PS boff(R8)(R11*1), Z31, Z5 \
	VFMADD231PS boff(R8)(R11*2), Z31, Z6 \
	VFMADD231PS boff(R8)(R12*1), Z31, Z7

// ZZERO8 clears the accumulators; ZADD8(r) adds the 128 floats at r to them (the bias, or c's
// old values); ZSTORE8 stores them at DX and advances DX (and the same for four panels, one).
#define ZZERO8 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

#define ZADD8(r) \
	VADDPS 0(r), Z0, Z0   \
	VADDPS 64(r), Z1, Z1  \
	VADDPS 128(r), Z2, Z2 \
	VADDPS 192(r), Z3, Z3 \
	VADDPS 256(r), Z4, Z4 \
	VADDPS 320(r), Z5, Z5 \
	VADDPS 384(r), Z6, Z6 \
	VADDPS 448(r), Z7, Z7

#define ZSTORE8 \
	VMOVUPS Z0, 0(DX)   \
	VMOVUPS Z1, 64(DX)  \
	VMOVUPS Z2, 128(DX) \
	VMOVUPS Z3, 192(DX) \
	VMOVUPS Z4, 256(DX) \
	VMOVUPS Z5, 320(DX) \
	VMOVUPS Z6, 384(DX) \
	VMOVUPS Z7, 448(DX) \
	ADDQ $512, DX

// ZPREFETCH8 prefetches the 512 bytes at R10 into L2 and advances R10: the lines of next for one
// line read from each of eight panels (ZPREFETCH4: four).
#define ZPREFETCH8 \
	PREFETCHT1 0(R10)   \
	PREFETCHT1 64(R10)  \
	PREFETCHT1 128(R10) \
	PREFETCHT1 192(R10) \
	PREFETCHT1 256(R10) \
	PREFETCHT1 320(R10) \
	PREFETCHT1 384(R10) \
	PREFETCHT1 448(R10) \
	ADDQ $512, R10

#define ZBF4(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31    \
	VPMOVZXWD boff(AX), Z16        \
	VPMOVZXWD boff(AX)(R11*1), Z17 \
	VPMOVZXWD boff(AX)(R11*2), Z18 \
	VPMOVZXWD boff(AX)(R12*1), Z19 \
	VPSLLD $16, Z16, Z16           \
	VPSLLD $16, Z17, Z17           \
	VPSLLD $16, Z18, Z18           \
	VPSLLD $16, Z19, Z19           \
	VFMADD231PS Z16, Z31, Z0       \
	VFMADD231PS Z17, Z31, Z1       \
	VFMADD231PS Z18, Z31, Z2       \
	VFMADD231PS Z19, Z31, Z3

#define ZF4(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31          \
	VFMADD231PS boff(AX), Z31, Z0        \
	VFMADD231PS boff(AX)(R11*1), Z31, Z1 \
	VFMADD231PS boff(AX)(R11*2), Z31, Z2 \
	VFMADD231PS boff(AX)(R12*1), Z31, Z3

#define ZZERO4 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3

#define ZADD4(r) \
	VADDPS 0(r), Z0, Z0   \
	VADDPS 64(r), Z1, Z1  \
	VADDPS 128(r), Z2, Z2 \
	VADDPS 192(r), Z3, Z3

#define ZSTORE4 \
	VMOVUPS Z0, 0(DX)   \
	VMOVUPS Z1, 64(DX)  \
	VMOVUPS Z2, 128(DX) \
	VMOVUPS Z3, 192(DX) \
	ADDQ $256, DX

#define ZPREFETCH4 \
	PREFETCHT1 0(R10)   \
	PREFETCHT1 64(R10)  \
	PREFETCHT1 128(R10) \
	PREFETCHT1 192(R10) \
	ADDQ $256, R10

#define ZBF1(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31 \
	VPMOVZXWD boff(AX), Z16     \
	VPSLLD $16, Z16, Z16        \
	VFMADD231PS Z16, Z31, Z0

#define ZF1(xoff, boff) \
	VBROADCASTSS xoff(R14), Z31   \
	VFMADD231PS boff(AX), Z31, Z0

#define ZZERO1 \
	VPXORD Z0, Z0, Z0

#define ZADD1(r) \
	VADDPS 0(r), Z0, Z0

#define ZSTORE1 \
	VMOVUPS Z0, 0(DX) \
	ADDQ $64, DX

// func gemvPanelsZ(k int, x *float32, b *float32, n int, c, bias *float32, accumulate bool, next *float32)
TEXT ·gemvPanelsZ(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ n+24(FP), BX
	MOVQ c+32(FP), DX
	MOVQ bias+40(FP), R9
	MOVQ next+56(FP), R10
	MOVQ CX, R11
	SHLQ $6, R11              // k·16 floats
	LEAQ (R11)(R11*2), R12

zf8group:
	CMPQ BX, $8
	JLT  zf4group
	ZZERO8
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13
	LEAQ (AX)(R11*4), R8
	SHRQ $1, R13
	JZ   zf8tail

zf8loop:
	ZPREFETCH8
	ZPREFETCH8
	ZF8(0, 0)
	ZF8(4, 64)
	ADDQ $8, R14
	ADDQ $128, AX
	ADDQ $128, R8
	DECQ R13
	JNZ  zf8loop

zf8tail:
	TESTQ $1, CX
	JZ    zf8end
	ZF8(0, 0)

zf8end:
	TESTQ R9, R9
	JZ    zf8nobias
	ZADD8(R9)
	ADDQ  $512, R9

zf8nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zf8store
	ZADD8(DX)

zf8store:
	ZSTORE8
	LEAQ (DI)(R11*8), DI
	SUBQ $8, BX
	JMP  zf8group

zf4group:
	CMPQ BX, $4
	JLT  zf1group
	ZZERO4
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13
	SHRQ $1, R13
	JZ   zf4tail

zf4loop:
	ZPREFETCH4
	ZPREFETCH4
	ZF4(0, 0)
	ZF4(4, 64)
	ADDQ $8, R14
	ADDQ $128, AX
	DECQ R13
	JNZ  zf4loop

zf4tail:
	TESTQ $1, CX
	JZ    zf4end
	ZF4(0, 0)

zf4end:
	TESTQ R9, R9
	JZ    zf4nobias
	ZADD4(R9)
	ADDQ  $256, R9

zf4nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zf4store
	ZADD4(DX)

zf4store:
	ZSTORE4
	LEAQ (DI)(R11*4), DI
	SUBQ $4, BX
	JMP  zf4group

zf1group:
	TESTQ BX, BX
	JZ    zfdone
	ZZERO1
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13

zf1loop:
	ZF1(0, 0)
	ADDQ $4, R14
	ADDQ $64, AX
	DECQ R13
	JNZ  zf1loop

zf1end:
	TESTQ R9, R9
	JZ    zf1nobias
	ZADD1(R9)
	ADDQ  $64, R9

zf1nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zf1store
	ZADD1(DX)

zf1store:
	ZSTORE1
	ADDQ R11, DI
	SUBQ $1, BX
	JMP  zf1group

zfdone:
	VZEROUPPER
	RET

// func gemvPanelsBF16Z(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, next *uint16)
TEXT ·gemvPanelsBF16Z(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ n+24(FP), BX
	MOVQ c+32(FP), DX
	MOVQ bias+40(FP), R9
	MOVQ next+56(FP), R10
	MOVQ CX, R11
	SHLQ $5, R11              // k·16 bf16 values
	LEAQ (R11)(R11*2), R12

zb8group:
	CMPQ BX, $8
	JLT  zb4group
	ZZERO8
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13
	LEAQ (AX)(R11*4), R8
	SHRQ $1, R13
	JZ   zb8tail

zb8loop:
	ZPREFETCH8
	ZBF8(0, 0)
	ZBF8(4, 32)
	ADDQ $8, R14
	ADDQ $64, AX
	ADDQ $64, R8
	DECQ R13
	JNZ  zb8loop

zb8tail:
	TESTQ $1, CX
	JZ    zb8end
	ZBF8(0, 0)

zb8end:
	TESTQ R9, R9
	JZ    zb8nobias
	ZADD8(R9)
	ADDQ  $512, R9

zb8nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zb8store
	ZADD8(DX)

zb8store:
	ZSTORE8
	LEAQ (DI)(R11*8), DI
	SUBQ $8, BX
	JMP  zb8group

zb4group:
	CMPQ BX, $4
	JLT  zb1group
	ZZERO4
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13
	SHRQ $1, R13
	JZ   zb4tail

zb4loop:
	ZPREFETCH4
	ZBF4(0, 0)
	ZBF4(4, 32)
	ADDQ $8, R14
	ADDQ $64, AX
	DECQ R13
	JNZ  zb4loop

zb4tail:
	TESTQ $1, CX
	JZ    zb4end
	ZBF4(0, 0)

zb4end:
	TESTQ R9, R9
	JZ    zb4nobias
	ZADD4(R9)
	ADDQ  $256, R9

zb4nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zb4store
	ZADD4(DX)

zb4store:
	ZSTORE4
	LEAQ (DI)(R11*4), DI
	SUBQ $4, BX
	JMP  zb4group

zb1group:
	TESTQ BX, BX
	JZ    zbdone
	ZZERO1
	MOVQ SI, R14
	MOVQ DI, AX
	MOVQ CX, R13

zb1loop:
	ZBF1(0, 0)
	ADDQ $4, R14
	ADDQ $32, AX
	DECQ R13
	JNZ  zb1loop

zb1end:
	TESTQ R9, R9
	JZ    zb1nobias
	ZADD1(R9)
	ADDQ  $64, R9

zb1nobias:
	CMPB accumulate+48(FP), $0
	JEQ  zb1store
	ZADD1(DX)

zb1store:
	ZSTORE1
	ADDQ R11, DI
	SUBQ $1, BX
	JMP  zb1group

zbdone:
	VZEROUPPER
	RET
