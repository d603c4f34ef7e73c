//go:build amd64 && !purego

package kernels

import (
	"math"
	"sync"
	"sync/atomic"
)

// The blocked GEMM behind Linear.Forward on amd64 with AVX2 and FMA, in the Goto/BLIS scheme:
//
//	for each task (a block of ≤ mcMax rows × a chunk of weight panels), on some goroutine:
//	  for each K-block [p0, p0+kc):                      kc ≤ kcMax, fixed by NewLinear
//	    pack x[rows, p0:p0+kc] into activation panels    (≤ mcMax·kcMax floats: lives in L2)
//	    for each weight panel q in the chunk:            (kc·16 floats of W: lives in L1)
//	      for each activation micro-panel r:
//	        C[6r:6r+6, 16q:16q+16] (+)= A_r · B_q        (kernel6x16, 12 YMM accumulators)
//
// The weights are packed once at construction (pack.go), so only activations are packed per
// call. The first K-block writes C with the bias (or nothing) added, later K-blocks add into C.
const (
	kcMax = 320 // K-block: a weight micro-panel is kc·64 bytes ≤ 20 KiB of the 32 KiB L1
	mcMax = 216 // rows per task: the activation block is ≤ 216·320·4 = 270 KiB of the 512 KiB L2
	ncMax = 96  // weight panels (of 16 columns) per task at most: 1536 columns
)

// kernel6x16 computes the 6×16 tile C = A·B (+ C) with
//
//	A  k × 6 floats, one activation micro-panel (a[p·6 + i] = row i, step p)
//	B  k × 16 floats, one weight micro-panel (b[p·16 + j] = column j, step p)
//	C  6 rows of 16 floats, ldc floats apart
//
// If bias is not nil, bias[0:16] is added to every row; if accumulate, the tile's old values
// are added too (in that order); then the tile is stored. k ≥ 1. Implemented in gemm_amd64.s.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, bias *float32, accumulate bool)

// packedLinear is the fast path's state inside Linear.
type packedLinear struct {
	panels []float32 // weight panels, layout in pack.go; nil when panels16 is used
	// panels16 holds the weight panels as bfloat16 bits (same layout) for a bf16 Linear: each
	// micro-panel is widened into a per-goroutine float32 scratch right before the kernel runs.
	panels16 []uint16
	kc       int       // K-block of panels: ≤ kcMax, a multiple of 4 unless it is all of K
	bias     []float32 // bias padded with zeros to a multiple of 16, or nil
}

// blockK returns the K-block for in steps: as few blocks as possible, evenly sized, a multiple
// of 4 steps (the kernel's unroll).
func blockK(in int) int {
	kBlocks := (in + kcMax - 1) / kcMax
	return min(ceilTo((in+kBlocks-1)/kBlocks, 4), in)
}

// newPackedLinearBF16 packs bfloat16 w [out, in] and bias [out] (or nil) for the AVX2 kernel.
func newPackedLinearBF16(w []uint16, bias []float32, out, in int) *packedLinear {
	kc := blockK(in)
	p := &packedLinear{panels16: packWeights(w, out, in, kc), kc: kc}
	if bias != nil {
		p.bias = make([]float32, (out+nr-1)/nr*nr)
		copy(p.bias, bias)
	}
	return p
}

// newPackedLinear packs w [out, in] and bias [out] (or nil) for the AVX2 kernel.
func newPackedLinear(w, bias []float32, out, in int) *packedLinear {
	kc := blockK(in)
	p := &packedLinear{panels: packWeights(w, out, in, kc), kc: kc}
	if bias != nil {
		p.bias = make([]float32, (out+nr-1)/nr*nr)
		copy(p.bias, bias)
	}
	return p
}

// packBufs recycles activation-panel buffers across calls and goroutines.
// The buffer is followed by room for one widened weight micro-panel (kcMax·16 floats), which
// only bf16 Linears use.
var packBufs = sync.Pool{New: func() any {
	b := make([]float32, (mcMax+mr-1)/mr*mr*kcMax+kcMax*nr)
	return &b
}}

// actBufLen is the part of a packBufs buffer that holds activation panels.
const actBufLen = (mcMax + mr - 1) / mr * mr * kcMax

// forward computes dst[m, n] = x[m, k]·Wᵀ + bias, or adds it to dst if add, with up to threads
// goroutines.
func (p *packedLinear) forward(dst, x []float32, m, n, k, threads int, add bool) {
	threads = max(threads, 1)
	panels := (n + nr - 1) / nr

	// Row blocks: as few as possible, evenly sized, a multiple of mr rows each.
	mBlocks := (m + mcMax - 1) / mcMax
	mc := ceilTo((m+mBlocks-1)/mBlocks, mr)
	mBlocks = (m + mc - 1) / mc

	// Panel chunks: at most ncMax panels each, and enough chunks that every goroutine gets
	// about four tasks when the rows alone do not provide them. More chunks re-pack the same
	// activation rows more often, so no more than that.
	nChunks := (panels + ncMax - 1) / ncMax
	if threads > 1 && mBlocks*nChunks < 4*threads {
		nChunks = max(nChunks, min(panels, (4*threads+mBlocks-1)/mBlocks))
	}
	perChunk := (panels + nChunks - 1) / nChunks
	nChunks = (panels + perChunk - 1) / perChunk

	tasks := mBlocks * nChunks
	var next atomic.Int64
	work := func() {
		bufp := packBufs.Get().(*[]float32)
		buf := *bufp
		for {
			t := int(next.Add(1)) - 1
			if t >= tasks {
				break
			}
			// Tasks that run at the same time share a chunk of weights (row blocks vary
			// fastest), so the chunk is read from memory once and then from L3.
			q0 := (t / mBlocks) * perChunk
			i0 := (t % mBlocks) * mc
			p.block(dst, x, buf, i0, min(mc, m-i0), q0, min(q0+perChunk, panels), n, k, add)
		}
		packBufs.Put(bufp)
	}
	workers := min(threads, tasks)
	if workers <= 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// block computes rows [i0, i0+mc) and weight panels [q0, q1) of dst, over all of K in the
// K-blocks of the packed weights, adding to dst's values if add. buf receives the packed
// activations.
func (p *packedLinear) block(dst, x, buf []float32, i0, mc, q0, q1, n, k int, add bool) {
	var edge [mr * nr]float32
	panels := (n + nr - 1) / nr
	for p0 := 0; p0 < k; p0 += p.kc {
		kb := min(p.kc, k-p0)
		packActivations(buf, x, k, i0, mc, p0, kb)
		accumulate := p0 > 0 || add
		for q := q0; q < q1; q++ {
			var b *float32
			if p.panels16 != nil {
				// Widen this bf16 micro-panel (exact) into the scratch after the activations.
				wide := buf[actBufLen : actBufLen+kb*nr]
				widenBF16(wide, p.panels16[weightPanel(panels, p0, kb, q):][:kb*nr])
				b = &wide[0]
			} else {
				b = &p.panels[weightPanel(panels, p0, kb, q)]
			}
			j := q * nr
			cols := min(nr, n-j)
			var bias *float32
			if p.bias != nil && p0 == 0 {
				bias = &p.bias[j]
			}
			for r := 0; r < mc; r += mr {
				a := &buf[r*kb]
				rows := min(mr, mc-r)
				c := dst[(i0+r)*n+j:]
				if rows == mr && cols == nr {
					kernel6x16(kb, a, b, &c[0], n, bias, accumulate)
					continue
				}
				// Edge tile: run the kernel on a 6×16 scratch tile and copy the valid part.
				if accumulate {
					for i := 0; i < rows; i++ {
						copy(edge[i*nr:i*nr+cols], c[i*n:i*n+cols])
					}
				}
				kernel6x16(kb, a, b, &edge[0], nr, bias, accumulate)
				for i := 0; i < rows; i++ {
					copy(c[i*n:i*n+cols], edge[i*nr:i*nr+cols])
				}
			}
		}
	}
}

// widenBF16 sets dst[i] = src[i] widened from bfloat16 to float32 (exact), for len(src) a
// multiple of 16 (one weight micro-panel's k-steps). (An AVX2 version measured no faster: the
// loop is a small part of a micro-panel's multiplication.)
func widenBF16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i := 0; i+16 <= len(src); i += 16 {
		s := (*[16]uint16)(src[i : i+16])
		d := (*[16]float32)(dst[i : i+16])
		for j := range 16 {
			d[j] = math.Float32frombits(uint32(s[j]) << 16)
		}
	}
}
