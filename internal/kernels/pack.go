//go:build amd64 && !purego

package kernels

import "unsafe"

// Panel layouts read by the 6×16 micro-kernel (gemm_amd64.s). Both operands are stored so the
// kernel walks them strictly sequentially: one k-step of a micro-panel is contiguous.
//
// Weight panels (packed once by NewLinear). W is [out, in] row-major, so output column j of
// Linear.Forward is row j of W. The columns are grouped into P = ⌈out/16⌉ panels of nr = 16, and
// K = in is cut into K-blocks of kc steps (the last one may be shorter: kb = min(kc, K − p0)).
// K-block by K-block, each panel's stretch is stored as kb × 16 floats, k-major:
//
//	packed[p0·P·16 + q·kb·16 + (p − p0)·16 + c] = W[16q + c, p]     (0 where 16q + c ≥ out)
//
// for p in the K-block [p0, p0+kb). A micro-panel (one panel, one K-block) is contiguous, one
// 64-byte line per k-step, and so are consecutive panels of one K-block, so a sweep over the
// panels of a K-block reads one sequential stream.
//
// Activation panels (packed per call, per block of rows and K-block). The block of x rows
// [i0, i0+mc) and columns [p0, p0+kc) is stored as ⌈mc/6⌉ micro-panels of mr = 6 rows, each
// kc × 6 floats, k-major:
//
//	buf[r·6·kc + p·6 + i] = x[(i0 + 6r + i)·in + p0 + p]     (0 where 6r + i ≥ mc)

const (
	mr = 6  // rows of a micro-tile (activation rows)
	nr = 16 // columns of a micro-tile (output features): two YMM registers
)

// packWeights returns W [out, in] row-major rearranged into weight panels with K-blocks of kc
// (layout above), in memory from offHeap, and the function that frees that memory (or nil).
// The element type is float32, or uint16 for bfloat16 weights.
func packWeights[T float32 | uint16](w []T, out, in, kc int) ([]T, func()) {
	panels := (out + nr - 1) / nr
	packed, free := offHeap[T](panels * nr * in)
	for p0 := 0; p0 < in; p0 += kc {
		kb := min(kc, in-p0)
		for q := 0; q < panels; q++ {
			dst := packed[p0*panels*nr+q*kb*nr:][:kb*nr]
			for c := 0; c < nr && q*nr+c < out; c++ {
				row := w[(q*nr+c)*in+p0:][:kb]
				for p, v := range row {
					dst[p*nr+c] = v
				}
			}
		}
	}
	return packed, free
}

// packA6 stores six rows of x, ld floats apart, kc floats each, as one activation micro-panel:
// dst[p·6 + i] = src[i·ld + p]. Implemented in pack_amd64.s.
//
//go:noescape
func packA6(dst, src *float32, ld, kc int)

// widen16 sets dst[i] = src[i] widened from bfloat16 to float32 (exact), for n > 0 a multiple
// of 16. Implemented in pack_amd64.s.
//
//go:noescape
func widen16(dst *float32, src *uint16, n int)

// prefetchL2 asks for the n > 0 bytes at p to be brought into the L2 cache (PREFETCHT1, one
// line at a time). Implemented in pack_amd64.s.
//
//go:noescape
func prefetchL2(p unsafe.Pointer, n int)

// weightPanel returns the offset in packed weights of panel q's stretch of the K-block starting
// at p0, whose length is kb.
func weightPanel(panels, p0, kb, q int) int { return p0*panels*nr + q*kb*nr }

// packActivations fills buf with the activation panels of rows [i0, i0+mc) and columns
// [p0, p0+kc) of x, whose rows are ld floats apart (layout above). buf must hold at least
// ⌈mc/6⌉·6·kc floats.
func packActivations(buf, x []float32, ld, i0, mc, p0, kc int) {
	r := 0
	for ; r+mr <= mc; r += mr {
		d := buf[r*kc : (r+mr)*kc]
		base := (i0+r)*ld + p0
		if kc > 0 {
			_ = x[base+5*ld+kc-1] // the assembly reads rows base … base+5·ld, kc floats each
			packA6(&d[0], &x[base], ld, kc)
		}
	}
	if r < mc {
		// Last, partial micro-panel: the missing rows are zeros, so the kernel's extra output
		// rows are finite and simply not copied out.
		rows := mc - r
		d := buf[r*kc : (r+mr)*kc]
		clear(d)
		for i := 0; i < rows; i++ {
			base := (i0+r+i)*ld + p0
			for p, v := range x[base : base+kc] {
				d[p*mr+i] = v
			}
		}
	}
}
