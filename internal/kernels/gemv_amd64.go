//go:build amd64 && !purego

package kernels

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// gemvPanels computes, for one row x[0:k] and the n consecutive weight micro-panels at b of
// one K-block of k steps (pack.go: panel q is b[q·k·16 : (q+1)·k·16], k-major, 16 columns),
//
//	c[16q + j] = (Σ_p x[p]·b[q·k·16 + p·16 + j]) (+ bias[16q + j]) (+ c[16q + j])
//
// the sum one FMA chain from zero over p in order (row 0 of kernel6x16's arithmetic), the bias
// added if bias is not nil, then c's old value if accumulate. k ≥ 1, n ≥ 0; c holds 16·n floats.
// While it reads the panels it prefetches into L2 about as many bytes at next (the weights the
// caller reads next; a prefetch never faults, so next may be anything, but from memory that is
// not read soon it only costs bandwidth). Implemented in gemv_amd64.s (AVX2).
//
//go:noescape
func gemvPanels(k int, x, b *float32, n int, c, bias *float32, accumulate bool, next *float32)

// gemvPanelsBF16 is gemvPanels for bfloat16 panels, each weight widened (exactly) in registers.
//
//go:noescape
func gemvPanelsBF16(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, next *uint16)

// gemvPanelsZ and gemvPanelsBF16Z are gemvPanels and gemvPanelsBF16 in AVX-512 (one ZMM
// register per panel, eight panels at once), with the same results bit for bit. Implemented in
// gemv_avx512_amd64.s.
//
//go:noescape
func gemvPanelsZ(k int, x, b *float32, n int, c, bias *float32, accumulate bool, next *float32)

//go:noescape
func gemvPanelsBF16Z(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, next *uint16)

// gemvAVX512 is whether this CPU (and OS) runs the AVX-512 GEMV kernels (AVX512F, and AVX512BW
// for VPMOVZXWD on ZMM): NewLinear's default for packedLinear.zmm. On an AMD EPYC (Zen 4, which
// executes a 512-bit operation as two 256-bit halves) they read the 2B decoder's weights from
// memory faster than the AVX2 ones, by 5–25 % in bf16 and 3–15 % in f32 (eight streams and
// chains against four; on L2-resident weights the AVX2 bf16 kernel is the faster, so the gain
// is in the streams, not the instructions). Widening two panels into one ZMM (VINSERTI64X4,
// even/odd columns, a VPERMI2PS unzip at the end) measured slower than VPMOVZXWD.
var gemvAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// gemvGroup is the panels a GEMV task sweeps K for before moving on: with more than one row,
// the later rows read one K-block of them (≤ 8·kcMax·64 bytes = 160 KiB) from L2.
const gemvGroup = 8

// gemv is forward for m ≤ gemvMaxRows rows: each task a chunk of weight panels, for each group
// of gemvGroup panels in it, K-block by K-block, each row. The first K-block stores (with the
// bias, and dst's old value if add), later ones add, as the GEMM's tiles do. Each kernel call
// prefetches the region the task reads after it: the group's next K-block, or after the last
// K-block the next group's first (after the task's last, its own region again: harmless).
func (p *packedLinear) gemv(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	n, k := p.out, p.in
	panels := (n + nr - 1) / nr
	elem := 4
	if p.panels16 != nil {
		elem = 2
	}
	per := gemvChunk(panels, k*nr*elem, threads)
	tasks := (panels + per - 1) / per
	ok := runTasks(tasks, min(max(threads, 1), tasks), done, func(_, t int) {
		q1 := min((t+1)*per, panels)
		for g0 := t * per; g0 < q1; g0 += gemvGroup {
			g1 := min(g0+gemvGroup, q1)
			for p0 := 0; p0 < k; p0 += p.kc {
				kb := min(p.kc, k-p0)
				next := weightPanel(panels, p0, kb, g0)
				if p0+kb < k {
					next = weightPanel(panels, p0+kb, min(p.kc, k-p0-kb), g0)
				} else if g1 < q1 {
					next = weightPanel(panels, 0, min(p.kc, k), g1)
				}
				for i := range m {
					p.gemvBlock(dst[i*n:(i+1)*n], x[i*k+p0:i*k+p0+kb], panels, p0, kb, g0, g1, next, p0 > 0 || add)
				}
			}
		}
	})
	runtime.KeepAlive(p) // the panels may be off the heap and freed by p's cleanup
	return ok
}

// gemvBlock runs the kernel for one row (dst [n], x the K-block's kb values) on panels
// [g0, g1) of the K-block at p0, through a 16-float scratch for a last, partial panel;
// next is the offset in the panels of the region to prefetch.
func (p *packedLinear) gemvBlock(dst, x []float32, panels, p0, kb, g0, g1, next int, accumulate bool) {
	n := len(dst)
	full := min(g1, n/nr) // panels whose 16 columns are all in dst
	var bias *float32
	if p.bias != nil && p0 == 0 {
		bias = &p.bias[g0*nr]
	}
	if full > g0 {
		off := weightPanel(panels, p0, kb, g0)
		p.gemvKernel(kb, &x[0], off, full-g0, &dst[g0*nr:][0], bias, accumulate, next)
	}
	if full < g1 { // the last panel, cols < 16 columns
		var edge [nr]float32
		j := full * nr
		if accumulate {
			copy(edge[:], dst[j:])
		}
		if bias != nil {
			bias = &p.bias[j]
		}
		p.gemvKernel(kb, &x[0], weightPanel(panels, p0, kb, full), 1, &edge[0], bias, accumulate, next)
		copy(dst[j:], edge[:])
	}
}

// gemvKernel runs the kernel of p's weights (f32 or bf16) and instruction set (p.zmm) on the n
// panels of kb steps at offset off of the panels, prefetching at offset next.
func (p *packedLinear) gemvKernel(kb int, x *float32, off, n int, c, bias *float32, accumulate bool, next int) {
	if p.panels16 != nil {
		b, pf := &p.panels16[off:][:n*kb*nr][0], &p.panels16[next]
		if p.zmm {
			gemvPanelsBF16Z(kb, x, b, n, c, bias, accumulate, pf)
		} else {
			gemvPanelsBF16(kb, x, b, n, c, bias, accumulate, pf)
		}
		return
	}
	b, pf := &p.panels[off:][:n*kb*nr][0], &p.panels[next]
	if p.zmm {
		gemvPanelsZ(kb, x, b, n, c, bias, accumulate, pf)
	} else {
		gemvPanels(kb, x, b, n, c, bias, accumulate, pf)
	}
}
