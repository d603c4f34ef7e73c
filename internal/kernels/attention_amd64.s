//go:build amd64 && !purego

#include "textflag.h"
#include "exp2_amd64.h"
#include "tile6x16_amd64.h"

// AVX2/FMA micro-kernels of the tiled attention. Go declarations: attention_amd64.go; layouts
// and contracts: attention.go.

// func attnSoftmax(s *float32, ld, kb int, m, alpha, sum *float32)
// One online-softmax step on a 6-row score tile (rows ld floats apart, kb floats each, kb a
// positive multiple of 8), with m, alpha and sum arrays of 8 floats (lanes 6 and 7 must hold
// finite values; they are computed on and ignored):
//
//	m'[i] = max(m[i], max_j s[i, j]);  alpha[i] = 2^(m[i] − m'[i]);  m[i] = m'[i]
//	s[i, j] ← 2^(s[i, j] − m'[i]);     sum[i] = Σ_j s[i, j]
TEXT ·attnSoftmax(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), DX
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ kb+16(FP), CX
	MOVQ m+24(FP), R9
	MOVQ alpha+32(FP), R10
	MOVQ sum+40(FP), R11
	SHRQ $3, CX                          // vectors per row

	// Row maxima, max'ed with m, into sum[0:6] for now.
	MOVQ DX, SI
	XORQ AX, AX

maxrow:
	VMOVUPS (SI), Y0
	LEAQ    32(SI), DI
	MOVQ    CX, BX
	DECQ    BX
	JZ      maxdone

maxloop:
	VMAXPS (DI), Y0, Y0
	ADDQ   $32, DI
	DECQ   BX
	JNZ    maxloop

maxdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMAXSS       (R9)(AX*4), X0, X0
	VMOVSS       X0, (R11)(AX*4)
	ADDQ         R8, SI
	INCQ         AX
	CMPQ         AX, $6
	JNE          maxrow

	// alpha = 2^(m − m'), m = m'.
	VMOVUPS (R9), Y0
	VMOVUPS (R11), Y3
	VSUBPS  Y3, Y0, Y0
	EXP2(Y0, Y1, Y2)
	VMOVUPS Y0, (R10)
	VMOVUPS Y3, (R9)

	// Exponentials and their sums, row by row.
	EXP2LOAD
	MOVQ DX, SI
	XORQ AX, AX

exprow:
	VBROADCASTSS (R9)(AX*4), Y15
	VXORPS       Y14, Y14, Y14
	VXORPS       Y13, Y13, Y13
	MOVQ         SI, DI
	MOVQ         CX, BX
	SHRQ         $1, BX
	JZ           exptail

exp2:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y3
	VSUBPS  Y15, Y0, Y0
	VSUBPS  Y15, Y3, Y3
	EXP2R(Y0, Y1, Y2)
	EXP2R(Y3, Y11, Y12)
	VMOVUPS Y0, (DI)
	VMOVUPS Y3, 32(DI)
	VADDPS  Y0, Y14, Y14
	VADDPS  Y3, Y13, Y13
	ADDQ    $64, DI
	DECQ    BX
	JNZ     exp2

exptail:
	MOVQ CX, BX
	ANDQ $1, BX
	JZ   expsum
	VMOVUPS (DI), Y0
	VSUBPS  Y15, Y0, Y0
	EXP2R(Y0, Y1, Y2)
	VMOVUPS Y0, (DI)
	VADDPS  Y0, Y14, Y14

expsum:
	VADDPS       Y13, Y14, Y14
	VEXTRACTF128 $1, Y14, X1
	VADDPS       X1, X14, X0
	VPERMILPS    $0x4e, X0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VADDPS       X1, X0, X0
	VMOVSS       X0, (R11)(AX*4)
	ADDQ         R8, SI
	INCQ         AX
	CMPQ         AX, $6
	JNE          exprow

	VZEROUPPER
	RET

// The score kernel uses the GEMM's 6×16 tile (ZERO12, STEP: tile6x16_amd64.h).

// STORE6 stores the 6×16 accumulators to the rows at R, R+S, …, R+5S (R is advanced).
#define STORE6(R, S) \
	VMOVUPS Y0, (R)     \
	VMOVUPS Y1, 32(R)   \
	ADDQ    S, R        \
	VMOVUPS Y2, (R)     \
	VMOVUPS Y3, 32(R)   \
	ADDQ    S, R        \
	VMOVUPS Y4, (R)     \
	VMOVUPS Y5, 32(R)   \
	ADDQ    S, R        \
	VMOVUPS Y6, (R)     \
	VMOVUPS Y7, 32(R)   \
	ADDQ    S, R        \
	VMOVUPS Y8, (R)     \
	VMOVUPS Y9, 32(R)   \
	ADDQ    S, R        \
	VMOVUPS Y10, (R)    \
	VMOVUPS Y11, 32(R)

// func attnScores(k int, a, b, c *float32, ldc, panels int)
// For t < panels: C[0:6, 16t:16t+16] = A·B_t, with A the query micro-panel (k × 6 floats,
// a[p·6+i] = row i, step p), B_t = b + t·16k the key panel t (k × 16 floats, b[p·16+j] = key j,
// step p) and C's rows ldc floats apart. k ≥ 1, panels ≥ 1.
TEXT ·attnScores(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ panels+40(FP), R12

panel:
	MOVQ a+8(FP), SI
	ZERO12
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	MOVQ CX, BX
	ANDQ $3, BX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ BX
	JNZ  loop1

store:
	MOVQ   DX, R11
	STORE6(R11, R8)
	ADDQ   $64, DX
	DECQ   R12
	JNZ    panel
	VZEROUPPER
	RET

// PSTEP performs one key step of the P·V kernel: O[0:6, 0:16] += P[0:6, j] ⊗ V[j, 0:16], with
// P's rows at off(SI), off(SI)(R8), …, off(SI)(R10) (R8 = ldp, R9 = 3·ldp, R10 = 5·ldp bytes) and
// the step's V at voff(DI).
#define PSTEP(off, voff) \
	VMOVUPS      voff(DI), Y12        \
	VMOVUPS      voff+32(DI), Y13     \
	VBROADCASTSS off(SI), Y14         \
	VFMADD231PS  Y12, Y14, Y0         \
	VFMADD231PS  Y13, Y14, Y1         \
	VBROADCASTSS off(SI)(R8*1), Y15   \
	VFMADD231PS  Y12, Y15, Y2         \
	VFMADD231PS  Y13, Y15, Y3         \
	VBROADCASTSS off(SI)(R8*2), Y14   \
	VFMADD231PS  Y12, Y14, Y4         \
	VFMADD231PS  Y13, Y14, Y5         \
	VBROADCASTSS off(SI)(R9*1), Y15   \
	VFMADD231PS  Y12, Y15, Y6         \
	VFMADD231PS  Y13, Y15, Y7         \
	VBROADCASTSS off(SI)(R8*4), Y14   \
	VFMADD231PS  Y12, Y14, Y8         \
	VFMADD231PS  Y13, Y14, Y9         \
	VBROADCASTSS off(SI)(R10*1), Y15  \
	VFMADD231PS  Y12, Y15, Y10        \
	VFMADD231PS  Y13, Y15, Y11

// SCALEROW loads row accumulators lo, hi from the 16 floats at (R) times the broadcast of the
// float at aoff(R13).
#define SCALEROW(R, aoff, lo, hi) \
	VBROADCASTSS aoff(R13), Y14 \
	VMULPS       (R), Y14, lo   \
	VMULPS       32(R), Y14, hi

// func attnPV(kb int, p *float32, ldp int, v *float32, vstride int, o *float32, ldo, panels int, alpha *float32)
// For t < panels: O[0:6, 16t:16t+16] ← diag(alpha)·O[0:6, 16t:16t+16] + P·V_t, with P the
// probabilities (6 rows of kb floats, ldp floats apart), V_t = v + t·vstride the value panel t
// (kb × 16 floats, v[j·16+c] = column c of key j), O's rows ldo floats apart and alpha[0:6] the
// rows' rescaling factors. kb ≥ 1, panels ≥ 1.
TEXT ·attnPV(SB), NOSPLIT, $0-72
	MOVQ kb+0(FP), CX
	MOVQ ldp+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	MOVQ v+24(FP), R14
	MOVQ vstride+32(FP), AX
	SHLQ $2, AX
	MOVQ o+40(FP), DX
	MOVQ ldo+48(FP), R11
	SHLQ $2, R11
	MOVQ panels+56(FP), R12
	MOVQ alpha+64(FP), R13

panel:
	// Accumulators ← alpha · O tile.
	MOVQ     DX, SI
	SCALEROW(SI, 0, Y0, Y1)
	ADDQ     R11, SI
	SCALEROW(SI, 4, Y2, Y3)
	ADDQ     R11, SI
	SCALEROW(SI, 8, Y4, Y5)
	ADDQ     R11, SI
	SCALEROW(SI, 12, Y6, Y7)
	ADDQ     R11, SI
	SCALEROW(SI, 16, Y8, Y9)
	ADDQ     R11, SI
	SCALEROW(SI, 20, Y10, Y11)

	MOVQ p+8(FP), SI
	MOVQ R14, DI
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	PSTEP(0, 0)
	PSTEP(4, 64)
	PSTEP(8, 128)
	PSTEP(12, 192)
	ADDQ $16, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	MOVQ CX, BX
	ANDQ $3, BX
	JZ   store

loop1:
	PSTEP(0, 0)
	ADDQ $4, SI
	ADDQ $64, DI
	DECQ BX
	JNZ  loop1

store:
	MOVQ   DX, SI
	STORE6(SI, R11)
	ADDQ   $64, DX
	ADDQ   AX, R14
	DECQ   R12
	JNZ    panel
	VZEROUPPER
	RET

// P8ROW performs, for one row of P (its values for keys j and j+1 at A and B), the FMAs of the
// two keys into that row's two accumulators (even keys in EVEN, odd keys in ODD).
#define P8ROW(A, B, EVEN, ODD) \
	VBROADCASTSS A, Y14         \
	VFMADD231PS  Y12, Y14, EVEN \
	VBROADCASTSS B, Y15         \
	VFMADD231PS  Y13, Y15, ODD

// P8STEP performs two key steps of the 8-column P·V kernel: keys j, j+1 with P at off(SI)… and
// V at voff(DI) (8 floats per key).
#define P8STEP(off, voff) \
	VMOVUPS voff(DI), Y12                \
	VMOVUPS voff+32(DI), Y13             \
	P8ROW(off(SI), off+4(SI), Y0, Y6)                       \
	P8ROW(off(SI)(R8*1), off+4(SI)(R8*1), Y1, Y7)           \
	P8ROW(off(SI)(R8*2), off+4(SI)(R8*2), Y2, Y8)           \
	P8ROW(off(SI)(R9*1), off+4(SI)(R9*1), Y3, Y9)           \
	P8ROW(off(SI)(R8*4), off+4(SI)(R8*4), Y4, Y10)          \
	P8ROW(off(SI)(R10*1), off+4(SI)(R10*1), Y5, Y11)

// func attnPV8(kb int, p *float32, ldp int, v, o *float32, ldo int, alpha *float32)
// O[0:6, 0:8] ← diag(alpha)·O[0:6, 0:8] + P·V for the last, 8-column value panel (v[j·8+c] =
// column c of key j): as attnPV with one half-width panel. Even and odd keys accumulate apart
// (12 chains cover the FMA latency), added at the end. kb ≥ 1.
TEXT ·attnPV8(SB), NOSPLIT, $0-56
	MOVQ kb+0(FP), CX
	MOVQ p+8(FP), SI
	MOVQ ldp+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	MOVQ v+24(FP), DI
	MOVQ o+32(FP), DX
	MOVQ ldo+40(FP), R11
	SHLQ $2, R11
	MOVQ alpha+48(FP), R13

	MOVQ         DX, AX
	VBROADCASTSS 0(R13), Y14
	VMULPS       (AX), Y14, Y0
	ADDQ         R11, AX
	VBROADCASTSS 4(R13), Y14
	VMULPS       (AX), Y14, Y1
	ADDQ         R11, AX
	VBROADCASTSS 8(R13), Y14
	VMULPS       (AX), Y14, Y2
	ADDQ         R11, AX
	VBROADCASTSS 12(R13), Y14
	VMULPS       (AX), Y14, Y3
	ADDQ         R11, AX
	VBROADCASTSS 16(R13), Y14
	VMULPS       (AX), Y14, Y4
	ADDQ         R11, AX
	VBROADCASTSS 20(R13), Y14
	VMULPS       (AX), Y14, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	P8STEP(0, 0)
	P8STEP(8, 64)
	ADDQ $16, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	VMOVUPS      (DI), Y12
	VBROADCASTSS (SI), Y14
	VFMADD231PS  Y12, Y14, Y0
	VBROADCASTSS (SI)(R8*1), Y14
	VFMADD231PS  Y12, Y14, Y1
	VBROADCASTSS (SI)(R8*2), Y14
	VFMADD231PS  Y12, Y14, Y2
	VBROADCASTSS (SI)(R9*1), Y14
	VFMADD231PS  Y12, Y14, Y3
	VBROADCASTSS (SI)(R8*4), Y14
	VFMADD231PS  Y12, Y14, Y4
	VBROADCASTSS (SI)(R10*1), Y14
	VFMADD231PS  Y12, Y14, Y5
	ADDQ         $4, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          loop1

store:
	VADDPS  Y6, Y0, Y0
	VADDPS  Y7, Y1, Y1
	VADDPS  Y8, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VADDPS  Y10, Y4, Y4
	VADDPS  Y11, Y5, Y5
	VMOVUPS Y0, (DX)
	ADDQ    R11, DX
	VMOVUPS Y1, (DX)
	ADDQ    R11, DX
	VMOVUPS Y2, (DX)
	ADDQ    R11, DX
	VMOVUPS Y3, (DX)
	ADDQ    R11, DX
	VMOVUPS Y4, (DX)
	ADDQ    R11, DX
	VMOVUPS Y5, (DX)
	VZEROUPPER
	RET
