//go:build amd64 && !purego

package kernels

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The blocked GEMM of the avx2+fma implementation (Linear.Forward's), in the Goto/BLIS scheme:
//
//	for each row block of ≤ mcMax rows:
//	  pack x[rows, :] into activation panels, K-block by K-block    (once per call, shared)
//	  for each task (the row block × a chunk of weight panels), on some goroutine:
//	    for each K-block [p0, p0+kc):                    kc ≤ kcMax, fixed by NewLinear
//	      for each weight panel q in the chunk:          (kc·16 floats of W: lives in L1)
//	        for each activation micro-panel r:           (≤ mcMax·kcMax floats: lives in L2)
//	          C[6r:6r+6, 16q:16q+16] (+)= A_r · B_q      (kernel6x16, 12 YMM accumulators)
//
// The weights are packed once at construction (pack.go), so only activations are packed per
// call. The first K-block writes C with the bias (or nothing) added, later K-blocks add into C.
const (
	kcMax = 320 // K-block: a weight micro-panel is kc·64 bytes ≤ 20 KiB of the 32 KiB L1
	mcMax = 216 // rows per row block: a K-block of its activations is ≤ 216·320·4 = 270 KiB of the 512 KiB L2
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

// packedLinear is a Linear's state in the avx2+fma implementation (its gemm).
type packedLinear struct {
	panels []float32 // weight panels, layout in pack.go; nil when panels16 is used
	// panels16 holds the weight panels as bfloat16 bits (same layout) for a bf16 Linear: each
	// micro-panel is widened into a per-goroutine float32 scratch right before the kernel runs.
	panels16 []uint16
	kc       int       // K-block of panels: ≤ kcMax, a multiple of 4 unless it is all of K
	bias     []float32 // bias padded with zeros to a multiple of 16, or nil
	out, in  int       // W's shape: n and k of the multiplication
	// zmm is whether the GEMV runs its AVX-512 kernels (gemvAVX512, set at construction; the
	// tests run both kernel sets on a CPU that has AVX-512).
	zmm bool
}

// blockK returns the K-block for in steps: as few blocks as possible, evenly sized, a multiple
// of 4 steps (the kernel's unroll).
func blockK(in int) int {
	kBlocks := (in + kcMax - 1) / kcMax
	return min(ceilTo((in+kBlocks-1)/kBlocks, 4), in)
}

// newPackedLinearBF16 packs bfloat16 w [out, in] and bias [out] (or nil) for the AVX2 kernel
// (impl_amd64.go's newGEMMBF16).
func newPackedLinearBF16(w []uint16, bias []float32, out, in int) *packedLinear {
	kc := blockK(in)
	panels, free := packWeights(w, out, in, kc)
	p := &packedLinear{panels16: panels, kc: kc, out: out, in: in, zmm: gemvAVX512}
	p.init(bias, out, free)
	return p
}

// newPackedLinear packs w [out, in] and bias [out] (or nil) for the AVX2 kernel (impl_amd64.go's
// newGEMM).
func newPackedLinear(w, bias []float32, out, in int) *packedLinear {
	kc := blockK(in)
	panels, free := packWeights(w, out, in, kc)
	p := &packedLinear{panels: panels, kc: kc, out: out, in: in, zmm: gemvAVX512}
	p.init(bias, out, free)
	return p
}

// init copies the bias, padded with zeros to whole panels, and arranges for the weight panels'
// memory to be freed (free, if not nil) once p is unreachable. Every method that hands the
// panels' memory to assembly keeps p alive until the assembly is done (runtime.KeepAlive).
func (p *packedLinear) init(bias []float32, out int, free func()) {
	if bias != nil {
		p.bias = make([]float32, (out+nr-1)/nr*nr)
		copy(p.bias, bias)
	}
	if free != nil {
		runtime.AddCleanup(p, func(free func()) { free() }, free)
	}
}

// Work split. A call's output is cut into tasks of one row block (≤ mcMax rows) × one chunk of
// weight panels. Each row block's activations are packed once per call, for all of K, into a
// buffer its tasks share (packing is itself split into micro-panels that the first goroutines
// to reach the row block share out); tasks are handed out dynamically, row block by row block,
// so goroutines that run at the same time read the same packed activations. Chunks are small
// enough that every goroutine gets about tasksPerThread tasks: a goroutine that starts late
// (waking one takes ~0.2 ms here) or is descheduled for a while then costs at most a small
// task's time at the end of the call.
const (
	tasksPerThread = 16 // tasks per goroutine to aim for, when the rows alone do not give them
	minChunk       = 4  // panels per task at least (64 columns); a floor, not tuned
)

// rowBlock is the shared state of one row block during a call.
type rowBlock struct {
	once     sync.Once
	buf      *[]float32   // packed activations, all K-blocks: see forward
	packNext atomic.Int32 // next micro-panel to pack
	packDone atomic.Int32 // micro-panels packed
	left     atomic.Int32 // tasks not yet finished; the buffer is recycled at 0
}

// actBufs recycles packed-activation buffers across calls.
var actBufs sync.Pool

// scratchBufs recycles the per-goroutine scratch that a bf16 Linear widens one weight
// micro-panel into (kcMax·16 floats).
var scratchBufs = sync.Pool{New: func() any {
	b := make([]float32, kcMax*nr)
	return &b
}}

// getActBuf returns a buffer of n floats from actBufs, or a new one. New buffers are made with
// a power-of-two capacity, so that the buffers of the tower's few layer widths are reused
// across layers rather than each too small for the next.
func getActBuf(n int) *[]float32 {
	if bp, _ := actBufs.Get().(*[]float32); bp != nil && cap(*bp) >= n {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]float32, n, 1<<bits.Len(uint(n-1)))
	return &b
}

// forward computes dst[m, n] = x[m, k]·Wᵀ + bias, or adds it to dst if add, with up to threads
// goroutines, as tasks of runTasks (which starts none once done is closed: forward then
// returns false, with dst partly computed): the GEMV for m ≤ gemvMaxRows (gemv.go), else
// the GEMM.
func (p *packedLinear) forward(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	if m <= gemvMaxRows {
		return p.gemv(dst, x, m, threads, add, done)
	}
	return p.gemm(dst, x, m, threads, add, done)
}

// gemm is forward by the blocked GEMM, for any m ≥ 1.
func (p *packedLinear) gemm(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	n, k := p.out, p.in
	threads = max(threads, 1)
	panels := (n + nr - 1) / nr

	// Row blocks: as few as possible, evenly sized, a multiple of mr rows each.
	mBlocks := (m + mcMax - 1) / mcMax
	mc := ceilTo((m+mBlocks-1)/mBlocks, mr)
	mBlocks = (m + mc - 1) / mc

	// Panel chunks per row block: at most ncMax panels, at least minChunk, and enough of them
	// for about tasksPerThread tasks per goroutine.
	perChunk := min(ncMax, panels)
	if threads > 1 {
		want := (tasksPerThread*threads + mBlocks - 1) / mBlocks
		perChunk = min(perChunk, max(minChunk, (panels+want-1)/want))
	}
	nChunks := (panels + perChunk - 1) / perChunk

	// A row block's packed activations: K-block by K-block, each ⌈mc/6⌉ micro-panels of kb×6
	// floats (pack.go), so K-block p0 starts at mc·p0.
	blocks := make([]rowBlock, mBlocks)
	tasks := mBlocks * nChunks
	workers := min(threads, tasks)
	scratch := make([]*[]float32, workers) // per goroutine, for a bf16 Linear
	ok := runTasks(tasks, workers, done, func(w, t int) {
		var wide []float32
		if p.panels16 != nil {
			if scratch[w] == nil {
				scratch[w] = scratchBufs.Get().(*[]float32)
			}
			wide = *scratch[w]
		}
		b, c := t/nChunks, t%nChunks
		rb := &blocks[b]
		i0 := b * mc
		rows := min(mc, m-i0)
		rb.once.Do(func() {
			rb.buf = getActBuf(mc * k)
			rb.left.Store(int32(nChunks))
		})
		// Pack what is left of the row block's micro-panels, then wait for the others. (A
		// goroutine finishes the micro-panels it took even when done closes, so none waits
		// for ever.)
		microPanels := (rows + mr - 1) / mr
		for {
			r := int(rb.packNext.Add(1)) - 1
			if r >= microPanels {
				break
			}
			for p0 := 0; p0 < k; p0 += p.kc {
				kb := min(p.kc, k-p0)
				packActivations((*rb.buf)[mc*p0+r*mr*kb:], x, k, i0+r*mr, min(mr, rows-r*mr), p0, kb)
			}
			rb.packDone.Add(1)
		}
		for int(rb.packDone.Load()) < microPanels {
			runtime.Gosched()
		}
		q0 := c * perChunk
		p.block(dst, *rb.buf, wide, i0, rows, mc, q0, min(q0+perChunk, panels), n, k, add)
		if rb.left.Add(-1) == 0 {
			actBufs.Put(rb.buf)
		}
	})
	for _, sp := range scratch {
		if sp != nil {
			scratchBufs.Put(sp)
		}
	}
	runtime.KeepAlive(p) // the panels may be off the heap and freed by p's cleanup
	return ok
}

// nextPanel returns the address and size in bytes of the weight micro-panel that block uses
// after panel q of the K-block at p0 (of kb steps): panel q+1 in the same K-block, else the
// chunk's first panel q0 in the next K-block; or nil, 0 after the last one.
func (p *packedLinear) nextPanel(panels, p0, kb, q, q0, q1, k int) (unsafe.Pointer, int) {
	if q+1 >= q1 {
		if p0+kb >= k {
			return nil, 0
		}
		p0, kb, q = p0+kb, min(p.kc, k-p0-kb), q0
	} else {
		q++
	}
	off := weightPanel(panels, p0, kb, q)
	if p.panels16 != nil {
		return unsafe.Pointer(&p.panels16[off]), kb * nr * 2
	}
	return unsafe.Pointer(&p.panels[off]), kb * nr * 4
}

// block computes rows [i0, i0+rows) and weight panels [q0, q1) of dst, over all of K in the
// K-blocks of the packed weights, adding to dst's values if add. act holds the row block's
// packed activations (K-block p0 at offset mc·p0); scratch receives widened bf16 weights.
func (p *packedLinear) block(dst, act, scratch []float32, i0, rows, mc, q0, q1, n, k int, add bool) {
	var edge [mr * nr]float32
	panels := (n + nr - 1) / nr
	for p0 := 0; p0 < k; p0 += p.kc {
		kb := min(p.kc, k-p0)
		buf := act[mc*p0:]
		accumulate := p0 > 0 || add
		for q := q0; q < q1; q++ {
			var b *float32
			if p.panels16 != nil {
				// Widen this bf16 micro-panel (exact) into the scratch.
				wide := scratch[:kb*nr]
				src := p.panels16[weightPanel(panels, p0, kb, q):][:kb*nr]
				widen16(&wide[0], &src[0], len(src))
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
			// While this panel's tiles run, bring the next panel this task uses into L2, a
			// slice before each tile (the hardware prefetcher does not see the jump to it).
			next, nextBytes := p.nextPanel(panels, p0, kb, q, q0, q1, k)
			tiles := (rows + mr - 1) / mr
			pfStep := ceilTo((nextBytes+tiles-1)/tiles, 64)
			for r, pf := 0, 0; r < rows; r, pf = r+mr, pf+pfStep {
				if pf < nextBytes {
					prefetchL2(unsafe.Add(next, pf), min(pfStep, nextBytes-pf))
				}
				a := &buf[r*kb]
				tileRows := min(mr, rows-r)
				c := dst[(i0+r)*n+j:]
				if tileRows == mr && cols == nr {
					kernel6x16(kb, a, b, &c[0], n, bias, accumulate)
					continue
				}
				// Edge tile: run the kernel on a 6×16 scratch tile and copy the valid part.
				if accumulate {
					for i := 0; i < tileRows; i++ {
						copy(edge[i*nr:i*nr+cols], c[i*n:i*n+cols])
					}
				}
				kernel6x16(kb, a, b, &edge[0], nr, bias, accumulate)
				for i := 0; i < tileRows; i++ {
					copy(c[i*n:i*n+cols], edge[i*nr:i*nr+cols])
				}
			}
		}
	}
}
