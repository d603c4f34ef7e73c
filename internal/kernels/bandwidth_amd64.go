//go:build amd64 && !purego

package kernels

// The loops of MeasureBandwidth in assembly (bandwidth_amd64.s). Each takes whole blocks only
// (sum: 64 words, 512 bytes, per block; copy and triad: 16 float64, 128 bytes); the Go
// wrappers do the rest with the portable loops.

// sumBlocksAVX2 returns the wrapping sum of blocks·64 words at p: eight YMM accumulators of
// VPADDQ, one 32-byte load each per step.
//
//go:noescape
func sumBlocksAVX2(p *uint64, blocks int) uint64

// sumBlocksAVX512 is sumBlocksAVX2 with eight ZMM accumulators, one 64-byte load each.
//
//go:noescape
func sumBlocksAVX512(p *uint64, blocks int) uint64

// copyBlocksAVX2 copies blocks·16 float64 from b to a with 32-byte loads and plain stores.
//
//go:noescape
func copyBlocksAVX2(a, b *float64, blocks int)

// triadBlocksAVX2 sets a[i] = b[i] + q·c[i] (VFMADD213PD) for blocks·16 elements.
//
//go:noescape
func triadBlocksAVX2(a, b, c *float64, q float64, blocks int)

// streamAsm is the assembly set; the read loop on ZMM registers when avx512 holds.
func streamAsm(avx512 bool) streamKernels {
	k := streamKernels{name: "avx2", sum: sumAVX2, copy: copyAVX2, triad: triadAVX2}
	if avx512 {
		k.name, k.sum = "avx512", sumAVX512
	}
	return k
}

func sumAVX2(p []uint64) uint64 {
	blocks := len(p) / 64
	var s uint64
	if blocks > 0 {
		s = sumBlocksAVX2(&p[0], blocks)
	}
	return s + sumWords(p[blocks*64:])
}

func sumAVX512(p []uint64) uint64 {
	blocks := len(p) / 64
	var s uint64
	if blocks > 0 {
		s = sumBlocksAVX512(&p[0], blocks)
	}
	return s + sumWords(p[blocks*64:])
}

func copyAVX2(a, b []float64) {
	b = b[:len(a)]
	blocks := len(a) / 16
	if blocks > 0 {
		copyBlocksAVX2(&a[0], &b[0], blocks)
	}
	copyGo(a[blocks*16:], b[blocks*16:])
}

func triadAVX2(a, b, c []float64, q float64) {
	b, c = b[:len(a)], c[:len(a)]
	blocks := len(a) / 16
	if blocks > 0 {
		triadBlocksAVX2(&a[0], &b[0], &c[0], q, blocks)
	}
	triadGo(a[blocks*16:], b[blocks*16:], c[blocks*16:], q)
}
