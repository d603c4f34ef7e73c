// Vectorised float32 exp2 for AVX2/FMA, included by the .s files of this package that need it.
// The constants are ·exp2c (exp2_amd64.s); exp2Go (attention_generic.go) is the same algorithm in
// Go, and TestExp2Accuracy holds both to 2 ulp.
//
// 2^x for x clamped to [−127, 127]: n = round-half-even(x), found by adding and subtracting
// 1.5·2²³ (the sum's low mantissa bits are n), f = x − n ∈ [−½, ½] (exact), 2^f by a degree-6
// polynomial, and the result scaled by 2^n by adding n << 23 to its exponent bits ((1.0's bits
// plus n << 23 is 2^n; n = −127 gives the bits of 0).

// EXP2(X, N, P): X ← 2^X on 8 lanes, N and P scratch; constants read from memory.
#define EXP2(X, N, P) \
	VMAXPS      ·exp2c+0(SB), X, X   \
	VMINPS      ·exp2c+32(SB), X, X  \
	VADDPS      ·exp2c+320(SB), X, N \
	VSUBPS      ·exp2c+320(SB), N, P \
	VSUBPS      P, X, X              \
	VPSLLD      $23, N, N            \
	VPADDD      ·exp2c+288(SB), N, N \
	VMOVUPS     ·exp2c+96(SB), P     \
	VFMADD213PS ·exp2c+128(SB), X, P \
	VFMADD213PS ·exp2c+160(SB), X, P \
	VFMADD213PS ·exp2c+192(SB), X, P \
	VFMADD213PS ·exp2c+224(SB), X, P \
	VFMADD213PS ·exp2c+256(SB), X, P \
	VFMADD213PS ·exp2c+288(SB), X, P \
	VMULPS      N, P, X

// EXP2LOAD loads the constants EXP2R keeps in registers: Y4 = −127, Y5 … Y10 = P0 … P5.
#define EXP2LOAD \
	VMOVUPS ·exp2c+0(SB), Y4   \
	VMOVUPS ·exp2c+96(SB), Y5  \
	VMOVUPS ·exp2c+128(SB), Y6 \
	VMOVUPS ·exp2c+160(SB), Y7 \
	VMOVUPS ·exp2c+192(SB), Y8 \
	VMOVUPS ·exp2c+224(SB), Y9 \
	VMOVUPS ·exp2c+256(SB), Y10

// EXP2R(X, N, Q) is EXP2 without the upper clamp (X ≤ 127 is the caller's business) and with
// most constants in Y4 … Y10 (EXP2LOAD), which runs about 25% faster than reading them from
// memory. N and Q are scratch.
#define EXP2R(X, N, Q) \
	VMAXPS      Y4, X, X             \
	VADDPS      ·exp2c+320(SB), X, N \
	VSUBPS      ·exp2c+320(SB), N, Q \
	VSUBPS      Q, X, X              \
	VPSLLD      $23, N, N            \
	VMOVAPS     Y5, Q                \
	VFMADD213PS Y6, X, Q             \
	VPADDD      ·exp2c+288(SB), N, N \
	VFMADD213PS Y7, X, Q             \
	VFMADD213PS Y8, X, Q             \
	VFMADD213PS Y9, X, Q             \
	VFMADD213PS Y10, X, Q            \
	VFMADD213PS ·exp2c+288(SB), X, Q \
	VMULPS      N, Q, X
