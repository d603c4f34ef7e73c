//go:build amd64 && !purego

package kernels

import "runtime"

// gemvPanels computes, for one row x[0:k] and the n consecutive weight micro-panels at b of
// one K-block of k steps (pack.go: panel q is b[q·k·16 : (q+1)·k·16], k-major, 16 columns),
//
//	c[16q + j] = (Σ_p x[p]·b[q·k·16 + p·16 + j]) (+ bias[16q + j]) (+ c[16q + j])
//
// the sum one FMA chain from zero over p in order (row 0 of kernel6x16's arithmetic), the bias
// added if bias is not nil, then c's old value if accumulate. k ≥ 1, n ≥ 0; c holds 16·n floats.
// Implemented in gemv_amd64.s.
//
//go:noescape
func gemvPanels(k int, x, b *float32, n int, c, bias *float32, accumulate bool)

// gemvPanelsBF16 is gemvPanels for bfloat16 panels, each weight widened (exactly) in registers.
//
//go:noescape
func gemvPanelsBF16(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

// gemvGroup is the panels a GEMV task sweeps K for before moving on: with more than one row,
// the later rows read one K-block of them (≤ 8·kcMax·64 bytes = 160 KiB) from L2.
const gemvGroup = 8

// gemv is forward for m ≤ gemvMaxRows rows: each task a chunk of weight panels, for each group
// of gemvGroup panels in it, K-block by K-block, each row. The first K-block stores (with the
// bias, and dst's old value if add), later ones add, as the GEMM's tiles do.
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
					p.gemvBlock(dst[i*n:(i+1)*n], x[i*k+p0:i*k+p0+kb], panels, p0, kb, g0, g1, p0 > 0 || add, next)
				}
			}
		}
	})
	runtime.KeepAlive(p) // the panels may be off the heap and freed by p's cleanup
	return ok
}

// gemvBlock runs the kernel for one row (dst [n], x the K-block's kb values) on panels
// [g0, g1) of the K-block at p0, through a 16-float scratch for a last, partial panel.
func (p *packedLinear) gemvBlock(dst, x []float32, panels, p0, kb, g0, g1 int, accumulate bool, next int) {
	n := len(dst)
	full := min(g1, n/nr) // panels whose 16 columns are all in dst
	var bias *float32
	if p.bias != nil && p0 == 0 {
		bias = &p.bias[g0*nr]
	}
	if full > g0 {
		off := weightPanel(panels, p0, kb, g0)
		c := &dst[g0*nr:][0]
		if p.panels16 != nil {
			_ = p.panels16[off+(full-g0)*kb*nr-1]
			if gemvBF16PfFn != nil {
				gemvBF16PfFn(kb, &x[0], &p.panels16[off], full-g0, c, bias, accumulate, &p.panels16[next])
			} else {
				gemvBF16Fn(kb, &x[0], &p.panels16[off], full-g0, c, bias, accumulate)
			}
		} else {
			_ = p.panels[off+(full-g0)*kb*nr-1]
			if gemvF32PfFn != nil {
				gemvF32PfFn(kb, &x[0], &p.panels[off], full-g0, c, bias, accumulate, &p.panels[next])
			} else {
				gemvF32Fn(kb, &x[0], &p.panels[off], full-g0, c, bias, accumulate)
			}
		}
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
		off := weightPanel(panels, p0, kb, full)
		if p.panels16 != nil {
			_ = p.panels16[off+kb*nr-1]
			gemvBF16Fn(kb, &x[0], &p.panels16[off], 1, &edge[0], bias, accumulate)
		} else {
			_ = p.panels[off+kb*nr-1]
			gemvF32Fn(kb, &x[0], &p.panels[off], 1, &edge[0], bias, accumulate)
		}
		copy(dst[j:], edge[:])
	}
}

var gemvF32Fn = gemvPanels
var gemvBF16Fn = gemvPanelsBF16
var gemvF32PfFn func(k int, x, b *float32, n int, c, bias *float32, accumulate bool, pf *float32)
var gemvBF16PfFn func(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, pf *uint16)
