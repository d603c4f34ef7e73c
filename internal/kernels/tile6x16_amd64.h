// The 6×16 micro-tile shared by the GEMM (gemm_amd64.s) and attention's score kernel
// (attention_amd64.s): twelve YMM accumulators, row r of the tile in Y(2r) (columns 0–7) and
// Y(2r+1) (columns 8–15); Y12, Y13 hold a k-step of B (16 floats), Y14, Y15 broadcast A
// values, alternating so consecutive rows do not share a register.

// ZERO12 clears the accumulators Y0..Y11.
#define ZERO12 \
	VXORPS Y0, Y0, Y0    \
	VXORPS Y1, Y1, Y1    \
	VXORPS Y2, Y2, Y2    \
	VXORPS Y3, Y3, Y3    \
	VXORPS Y4, Y4, Y4    \
	VXORPS Y5, Y5, Y5    \
	VXORPS Y6, Y6, Y6    \
	VXORPS Y7, Y7, Y7    \
	VXORPS Y8, Y8, Y8    \
	VXORPS Y9, Y9, Y9    \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

// STEP performs one k-step: C[0:6, 0:16] += A[0:6, k] ⊗ B[k, 0:16], with the k-step's A (6
// floats) at aoff(SI) and its B (16 floats) at boff(DI).
#define STEP(aoff, boff) \
	VMOVUPS      boff(DI), Y12        \
	VMOVUPS      boff+32(DI), Y13     \
	VBROADCASTSS aoff(SI), Y14        \
	VFMADD231PS  Y12, Y14, Y0         \
	VFMADD231PS  Y13, Y14, Y1         \
	VBROADCASTSS aoff+4(SI), Y15      \
	VFMADD231PS  Y12, Y15, Y2         \
	VFMADD231PS  Y13, Y15, Y3         \
	VBROADCASTSS aoff+8(SI), Y14      \
	VFMADD231PS  Y12, Y14, Y4         \
	VFMADD231PS  Y13, Y14, Y5         \
	VBROADCASTSS aoff+12(SI), Y15     \
	VFMADD231PS  Y12, Y15, Y6         \
	VFMADD231PS  Y13, Y15, Y7         \
	VBROADCASTSS aoff+16(SI), Y14     \
	VFMADD231PS  Y12, Y14, Y8         \
	VFMADD231PS  Y13, Y14, Y9         \
	VBROADCASTSS aoff+20(SI), Y15     \
	VFMADD231PS  Y12, Y15, Y10        \
	VFMADD231PS  Y13, Y15, Y11
