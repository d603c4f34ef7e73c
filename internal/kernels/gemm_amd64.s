//go:build amd64 && !purego

#include "textflag.h"
#include "tile6x16_amd64.h"

// The 6×16 AVX2/FMA micro-kernel of Linear.Forward; see gemm_amd64.go for the Go declaration
// and pack.go for the panel layouts it reads.
//
// Register use (the tile's macros, ZERO12 and STEP, are in tile6x16_amd64.h):
//   Y0..Y11   accumulators: row r of the tile in Y(2r) (columns 0–7) and Y(2r+1) (columns 8–15)
//   Y12, Y13  one k-step of the B micro-panel (16 floats)
//   Y14, Y15  broadcast A values, alternating so consecutive rows do not share a register
//   SI        A micro-panel cursor (6 floats = 24 bytes per k-step)
//   DI        B micro-panel cursor (16 floats = 64 bytes per k-step)
//   CX        k remaining, BX k/4 loop counter
//   DX        C tile, R8 its row stride in bytes, R9 bias (or 0), R10 accumulate flag

// ADDROW adds the 16 floats at (reg) to row accumulators lo, hi.
#define ADDROW(reg, lo, hi) \
	VADDPS (reg), lo, lo   \
	VADDPS 32(reg), hi, hi

// STOREROW stores row accumulators lo, hi to the 16 floats at (reg).
#define STOREROW(reg, lo, hi) \
	VMOVUPS lo, (reg)     \
	VMOVUPS hi, 32(reg)

// func kernel6x16(k int, a, b, c *float32, ldc int, bias *float32, accumulate bool)
TEXT ·kernel6x16(SB), NOSPLIT, $0-49
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), SI
	MOVQ    b+16(FP), DI
	MOVQ    c+24(FP), DX
	MOVQ    ldc+32(FP), R8
	SHLQ    $2, R8
	MOVQ    bias+40(FP), R9
	MOVBQZX accumulate+48(FP), R10

	ZERO12

	// Touch the C tile now so its lines arrive while the FMAs run (each row is 64 bytes and may
	// straddle two lines).
	MOVQ       DX, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ       R8, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ       R8, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ       R8, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ       R8, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ       R8, R11
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	PREFETCHT0 384(SI)
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ       $96, SI
	ADDQ       $256, DI
	DECQ       BX
	JNZ        loop4

tail:
	ANDQ $3, CX
	JZ   epilogue

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

epilogue:
	TESTQ R9, R9
	JZ    nobias

	// Add bias[0:16] to every row.
	VMOVUPS (R9), Y12
	VMOVUPS 32(R9), Y13
	VADDPS  Y12, Y0, Y0
	VADDPS  Y13, Y1, Y1
	VADDPS  Y12, Y2, Y2
	VADDPS  Y13, Y3, Y3
	VADDPS  Y12, Y4, Y4
	VADDPS  Y13, Y5, Y5
	VADDPS  Y12, Y6, Y6
	VADDPS  Y13, Y7, Y7
	VADDPS  Y12, Y8, Y8
	VADDPS  Y13, Y9, Y9
	VADDPS  Y12, Y10, Y10
	VADDPS  Y13, Y11, Y11

nobias:
	TESTQ R10, R10
	JZ    store

	// Accumulate into C (what earlier K-blocks left there, or the caller's values).
	MOVQ   DX, R11
	ADDROW(R11, Y0, Y1)
	ADDQ   R8, R11
	ADDROW(R11, Y2, Y3)
	ADDQ   R8, R11
	ADDROW(R11, Y4, Y5)
	ADDQ   R8, R11
	ADDROW(R11, Y6, Y7)
	ADDQ   R8, R11
	ADDROW(R11, Y8, Y9)
	ADDQ   R8, R11
	ADDROW(R11, Y10, Y11)

store:
	STOREROW(DX, Y0, Y1)
	ADDQ     R8, DX
	STOREROW(DX, Y2, Y3)
	ADDQ     R8, DX
	STOREROW(DX, Y4, Y5)
	ADDQ     R8, DX
	STOREROW(DX, Y6, Y7)
	ADDQ     R8, DX
	STOREROW(DX, Y8, Y9)
	ADDQ     R8, DX
	STOREROW(DX, Y10, Y11)

	VZEROUPPER
	RET
