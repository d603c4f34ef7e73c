package kernels

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Attention computes scaled dot-product attention, full (non-causal) within each segment and
// independently for each head; no row attends outside its own segment.
//
//	qkv  [n, 3·heads·headDim]  each row q | k | v, each head's headDim values contiguous
//	out  [n, heads·headDim]    head h at columns [h·headDim, (h+1)·headDim)
//	segments                   lengths of consecutive segments, summing to n
//
// out = softmax(q·kᵀ/√headDim)·v per segment and head, computed tile by tile with an online
// softmax (FlashAttention's scheme), so the scores are never held for more than a block of keys:
// memory is O(longest segment · headDim), never O(n²) (attentionWorkspace gives the exact figure).
// AttentionRef is the slow reference it is tested against.
//
// For each segment and head, K and V are packed once into panels (layouts below). Each task then
// takes attnBQ query rows, packs them, pre-scaled by log₂e/√headDim, into micro-panels of attnMR
// rows, and for each block of attnBK keys and each micro-panel:
//
//	S = Q·Kᵀ                       attnMR × attnBK scores in base-2 units   (kernel scores)
//	m' = max(m, rowmax S)           per row, the running maximum             (kernel softmax)
//	P = 2^(S − m'), α = 2^(m − m')
//	l ← α·l + rowsum P
//	O ← α·O + P·V                                                            (kernels pv, pv8)
//
// and finally out = O / l. With α = 2^(m−m'), every exponent is ≤ 0, so nothing overflows.
//
// Layouts (L the segment length and Lp = L rounded up to 16; hdv = headDim rounded up to a
// multiple of 16, or to 8 more than one when that covers it, as 72 → 64 + 8):
//
//	K panels: Lp/16 panels of 16 keys, each headDim × 16 floats, k-major:
//	          kp[(j/16)·headDim·16 + p·16 + j%16] = k_j[p]            (0 for j ≥ L)
//	V panels: ⌊hdv/16⌋ panels of 16 columns, each Lp × 16 floats, key-major:
//	          vp[(c/16)·Lp·16 + j·16 + c%16] = v_j[c]                 (0 for j ≥ L or c ≥ headDim)
//	          then, if hdv%16 = 8, one panel of the last 8 columns, Lp × 8 floats:
//	          vp[(hdv−8)·Lp + j·8 + c − (hdv−8)] = v_j[c]
//	Q micro-panels: one per attnMR query rows, headDim × attnMR floats:
//	          qp[r·headDim·attnMR + p·attnMR + i] = q_{attnMR·r+i}[p]·log₂e/√headDim
//	S, P:     attnMR rows of attnBK floats (row-major); O: attnBQ rows of hdv floats.
//
// In the avx2+fma implementation the kernels are assembly (attention_amd64.s); in the generic
// one their Go twins (attention_generic.go).
func Attention(out, qkv []float32, n, heads, headDim int, segments []int, threads int) {
	attention(&active.attn, nil, out, qkv, n, heads, headDim, segments, threads)
}

// AttentionContext is Attention, stopped when ctx is done: the work runs as tasks (a whole
// short segment and head, or a block of attnBQ query rows of a long one; the packing of a long
// segment's keys in chunks) and ctx is checked before each task and before each block of attnBK
// keys within one, so a task stops within about a millisecond of work. Once ctx is done no
// further task starts; AttentionContext then returns ctx.Err() when the running ones have
// stopped, with out partly computed. A ctx done before the call does no work.
func AttentionContext(ctx context.Context, out, qkv []float32, n, heads, headDim int, segments []int, threads int) error {
	if attention(&active.attn, ctx.Done(), out, qkv, n, heads, headDim, segments, threads) {
		return nil
	}
	return ctx.Err() // not nil: work was skipped because ctx.Done() is closed
}

const (
	attnMR    = 6           // query rows per micro-panel (score tile rows)
	attnNR    = 16          // keys per K panel, value columns per V panel
	attnBK    = 256         // keys per key block: K and V blocks of ≤ 80 KiB each stay in L2
	attnBQ    = 32 * attnMR // query rows per task (192): each K/V block is read from L3 once per task
	attnSmall = 1024        // segments up to this length may be done whole by one goroutine
	attnPack  = 64          // K panels per packing task of a big segment (1,024 keys)
)

// attnKernels is one implementation of the attention micro-kernels (layouts in Attention's
// comment). Each function checks its bounds.
type attnKernels struct {
	name string
	// scores: for t < panels, c[0:6, 16t:16t+16] (rows ldc apart) = A·B_t with A = a (k × 6,
	// k-major) and B_t = b[t·16k:] (k × 16, k-major).
	scores func(k int, a, b, c []float32, ldc, panels int)
	// pv: for t < panels, o[0:6, 16t:16t+16] (rows ldo apart) = alpha[i]·o + P·V_t with P = p
	// (6 rows of kb, ldp apart) and V_t = v[t·vstride:] (kb × 16, key-major).
	pv func(kb int, p []float32, ldp int, v []float32, vstride int, o []float32, ldo, panels int, alpha []float32)
	// pv8: o[0:6, 0:8] = alpha[i]·o + P·V with V = v (kb × 8, key-major): the half-width panel.
	pv8 func(kb int, p []float32, ldp int, v, o []float32, ldo int, alpha []float32)
	// softmax: one online-softmax step on the 6 × kb tile s (rows ld apart, kb a positive
	// multiple of 8): m' = max(m, rowmax s), alpha = 2^(m − m'), m = m', s ← 2^(s − m'),
	// sum = rowsum s. Lanes 6 and 7 of m, alpha, sum are scratch (m's must be finite).
	softmax func(s []float32, ld, kb int, m, alpha, sum *[8]float32)
	// tile, when not nil, makes these AttentionBF16's kernels: the products are bf16 GEMM tiles
	// (gemm_bf16.go) over the layouts of attention_bf16.go, and scores, pv, pv8 are unused;
	// pack packs its activation blocks and pairs its value rows (nil: in Go).
	tile  bf16Tile
	pack  bf16Pack
	pairs bf16Pairs
}

// attnPlan splits the segments between the two ways of scheduling them.
type attnPlan struct {
	hd, hdv int
	bf16    bool // AttentionBF16's layouts (attention_bf16.go)
	// small segments: one goroutine takes a whole (segment, head) pair, packs it into its own
	// K/V buffer and runs all its query blocks. Used when there are enough pairs to share out.
	small    []attnSeg
	smallMax int // longest small segment, rounded up to attnNR
	// big segments: one (segment, head) at a time; all goroutines pack it into one shared K/V
	// buffer, then share its query blocks.
	big    []attnSeg
	bigMax int // longest big segment, rounded up to attnNR
	// workers is the number of goroutines.
	workers int
}

type attnSeg struct{ start, length int }

func planAttention(segments []int, heads, hd, threads int, bf16 bool) attnPlan {
	p := attnPlan{hd: hd, hdv: valueWidth(hd), bf16: bf16, workers: max(threads, 1)}
	align := attnNR // keys per K panel
	if bf16 {
		p.hdv, align = ceilTo(hd, bf16NR), bf16NR
	}
	smallPairs := 0
	for _, s := range segments {
		if s > 0 && s <= attnSmall {
			smallPairs += heads
		}
	}
	// Pairs are shared out whole only when every goroutine gets a couple of them.
	useSmall := p.workers == 1 || smallPairs >= 2*p.workers
	start := 0
	for _, s := range segments {
		switch {
		case s == 0:
		case s <= attnSmall && useSmall:
			p.small = append(p.small, attnSeg{start, s})
			p.smallMax = max(p.smallMax, ceilTo(s, align))
		default:
			p.big = append(p.big, attnSeg{start, s})
			p.bigMax = max(p.bigMax, ceilTo(s, align))
		}
		start += s
	}
	return p
}

// workerFloats is the float32 scratch of one goroutine: its Q micro-panels, one S/P tile and
// its O rows, plus a K/V buffer for small segments.
func (p attnPlan) workerFloats() int {
	if p.bf16 {
		return p.workerFloatsBF16()
	}
	f := attnBQ*p.hd + attnMR*attnBK + attnBQ*p.hdv
	if len(p.small) > 0 {
		f += p.smallMax * (p.hd + p.hdv)
	}
	return f
}

// sharedFloats is the K/V buffer of big segments, shared by all goroutines.
func (p attnPlan) sharedFloats() int { return p.bigMax * p.kvFloats() }

// kvFloats is the K/V buffer per key (of a segment length rounded up to a whole K panel).
func (p attnPlan) kvFloats() int {
	if p.bf16 {
		return (p.hd+1)/2 + p.hdv/2 // bf16 pairs in float32 slots
	}
	return p.hd + p.hdv
}

// valueWidth is the width of the value panels for headDim: 16-column panels and, when the
// remainder is at most 8, one 8-column panel (72 → 64 + 8; 20 → 16 + 8; 76 → 80).
func valueWidth(hd int) int {
	if r := hd % attnNR; r > 0 && r <= 8 {
		return hd - r + 8
	}
	return ceilTo(hd, attnNR)
}

// attentionWorkspace returns the bytes of scratch Attention uses for these arguments (beyond a
// few small per-goroutine structures): O(longest segment · headDim + threads · headDim), never
// O(n²).
func attentionWorkspace(segments []int, heads, headDim, threads int) int {
	p := planAttention(segments, heads, headDim, threads, false)
	return 4 * (p.sharedFloats() + p.workers*p.workerFloats())
}

// attnWorker is one goroutine's scratch.
type attnWorker struct {
	q, s, o    []float32
	kv         []float32                   // K/V panels of small segments
	m          [attnBQ / attnMR][8]float32 // running row maxima per micro-panel (lanes 6, 7: 0)
	l          [attnBQ]float64             // running row sums
	alpha, sum [8]float32
	bf         attnWorkerBF16 // AttentionBF16's (attention_bf16.go)
}

// f32Pool recycles Attention's scratch buffers between calls.
var f32Pool sync.Pool // of *[]float32

func getF32(n int) *[]float32 {
	if b, ok := f32Pool.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// attention is Attention with the kernels k, stopped once done is closed (see runTasks); it
// reports whether all the work was done.
func attention(k *attnKernels, done <-chan struct{}, out, qkv []float32, n, heads, hd int, segments []int, threads int) bool {
	d := heads * hd
	total := 0
	for _, s := range segments {
		if s < 0 {
			panic(fmt.Sprintf("kernels: Attention: negative segment length %d", s))
		}
		total += s
	}
	if heads < 1 || hd < 1 || total != n || len(qkv) < n*3*d || len(out) < n*d {
		panic(fmt.Sprintf("kernels: Attention: heads %d, headDim %d, segments sum to %d, n = %d, qkv %d, out %d", heads, hd, total, n, len(qkv), len(out)))
	}
	if n == 0 {
		return true
	}
	plan := planAttention(segments, heads, hd, threads, k.tile != nil)
	a := &attnRun{k: k, out: out, qkv: qkv, heads: heads, hd: hd, hdv: plan.hdv, d: d,
		scale: float32(math.Log2E / math.Sqrt(float64(hd)))}

	wf := plan.workerFloats()
	bufs := make([]*[]float32, plan.workers)
	workers := make([]*attnWorker, plan.workers)
	for i := range workers {
		bufs[i] = getF32(wf)
		b := *bufs[i]
		w := &attnWorker{}
		if plan.bf16 {
			w.kv = w.bf.carve(b, plan)
			workers[i] = w
			continue
		}
		w.q, b = b[:attnBQ*hd], b[attnBQ*hd:]
		w.s, b = b[:attnMR*attnBK], b[attnMR*attnBK:]
		w.o, b = b[:attnBQ*plan.hdv], b[attnBQ*plan.hdv:]
		w.kv = b
		workers[i] = w
	}
	defer func() {
		for _, b := range bufs {
			f32Pool.Put(b)
		}
	}()

	var cut atomic.Bool // a task stopped part-way because done closed

	// Small segments: pairs (segment, head) shared out whole.
	if pairs := len(plan.small) * heads; pairs > 0 {
		ok := runTasks(pairs, min(plan.workers, pairs), done, func(wi, g int) {
			w := workers[wi]
			seg, h := plan.small[g/heads], g%heads
			kv := a.newKV(w.kv, seg, h)
			kv.pack(a, 0, kv.panels())
			for q0 := 0; q0 < seg.length; q0 += attnBQ {
				if !a.queries(w, kv, q0, min(q0+attnBQ, seg.length), done) {
					cut.Store(true)
					return
				}
			}
		})
		if !ok || cut.Load() {
			return false
		}
	}

	// Big segments: one (segment, head) at a time, its panels and query blocks shared out.
	if len(plan.big) > 0 {
		shared := getF32(plan.sharedFloats())
		defer f32Pool.Put(shared)
		for _, seg := range plan.big {
			blocks := (seg.length + attnBQ - 1) / attnBQ
			for h := 0; h < heads; h++ {
				kv := a.newKV(*shared, seg, h)
				panels := kv.panels()
				chunks := (panels + attnPack - 1) / attnPack
				if !runTasks(chunks, plan.workers, done, func(_, c int) {
					kv.pack(a, c*attnPack, min((c+1)*attnPack, panels))
				}) {
					return false
				}
				ok := runTasks(blocks, min(plan.workers, blocks), done, func(wi, b int) {
					q0 := b * attnBQ
					if !a.queries(workers[wi], kv, q0, min(q0+attnBQ, seg.length), done) {
						cut.Store(true)
					}
				})
				if !ok || cut.Load() {
					return false
				}
			}
		}
	}
	return true
}

// attnRun is the state of one Attention call.
type attnRun struct {
	k         *attnKernels
	out, qkv  []float32
	heads, hd int
	hdv, d    int
	scale     float32 // log₂e/√headDim, folded into Q
}

// attnKV is the packed K and V of one (segment, head).
type attnKV struct {
	seg    attnSeg
	head   int
	lp     int // segment length rounded up to a whole K panel (attnNR keys, bf16NR for bf16)
	bf16   bool
	kp, vp []float32
}

func (a *attnRun) newKV(buf []float32, seg attnSeg, head int) *attnKV {
	if a.k.tile != nil {
		return a.newKVBF16(buf, seg, head)
	}
	lp := ceilTo(seg.length, attnNR)
	return &attnKV{seg: seg, head: head, lp: lp, kp: buf[:lp*a.hd], vp: buf[lp*a.hd : lp*(a.hd+a.hdv)]}
}

// panels is the number of K panels.
func (kv *attnKV) panels() int {
	if kv.bf16 {
		return kv.lp / bf16NR
	}
	return kv.lp / attnNR
}

// pack fills K panels [lo, hi) and the same keys' rows of the V panels.
func (kv *attnKV) pack(a *attnRun, lo, hi int) {
	if kv.bf16 {
		kv.packBF16(a, lo, hi)
		return
	}
	hd, hdv, ld, l, lp := a.hd, a.hdv, 3*a.d, kv.seg.length, kv.lp
	kBase := kv.seg.start*ld + a.d + kv.head*hd
	vBase := kBase + a.d
	var zero [attnNR]float32 // rows of padding keys
	for q := lo; q < hi; q++ {
		// K panel q: 16 keys, transposed four at a time.
		panel := kv.kp[q*hd*attnNR : (q+1)*hd*attnNR]
		for c := 0; c < attnNR; c += 4 {
			var rows [4][]float32
			for i := range rows {
				if j := q*attnNR + c + i; j < l {
					rows[i] = a.qkv[kBase+j*ld : kBase+j*ld+hd]
				} else {
					rows[i] = zero[:0]
				}
			}
			if len(rows[3]) == hd { // the usual case: four real keys
				r0, r1, r2, r3 := rows[0][:hd], rows[1][:hd], rows[2][:hd], rows[3][:hd]
				for p := 0; p < hd; p++ {
					d := panel[p*attnNR+c : p*attnNR+c+4 : p*attnNR+c+4]
					d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
				}
				continue
			}
			for i, r := range rows {
				for p := 0; p < hd; p++ {
					x := float32(0)
					if p < len(r) {
						x = r[p]
					}
					panel[p*attnNR+c+i] = x
				}
			}
		}
		// V rows of the same keys: 16 columns per panel, 8 in the last if hdv%16 = 8.
		for j := q * attnNR; j < (q+1)*attnNR; j++ {
			var vrow []float32
			if j < l {
				vrow = a.qkv[vBase+j*ld : vBase+j*ld+hd]
			}
			for c := 0; c < hdv; c += attnNR {
				w := min(attnNR, hdv-c)
				dst := kv.vp[c*lp+j*w : c*lp+(j+1)*w]
				clear(dst[copy(dst, vrow[min(c, len(vrow)):min(c+w, len(vrow))]):])
			}
		}
	}
}

// queries computes the output rows [q0, q1) (within the segment, q1 − q0 ≤ attnBQ) of kv's
// segment and head. It checks done before each block of attnBK keys and returns false, the rows
// not computed, if it is closed.
func (a *attnRun) queries(w *attnWorker, kv *attnKV, q0, q1 int, done <-chan struct{}) bool {
	if kv.bf16 {
		return a.queriesBF16(&w.bf, kv, q0, q1, done)
	}
	hd, hdv, ld, lp := a.hd, a.hdv, 3*a.d, kv.lp
	rows := q1 - q0
	mps := (rows + attnMR - 1) / attnMR
	qBase := kv.seg.start*ld + kv.head*hd

	// Q micro-panels, scaled.
	c := a.scale
	for r := 0; r < mps; r++ {
		panel := w.q[r*hd*attnMR : (r+1)*hd*attnMR]
		row := q0 + r*attnMR
		if row+attnMR <= q1 {
			at := qBase + row*ld
			r0, r1, r2 := a.qkv[at:at+hd], a.qkv[at+ld:at+ld+hd], a.qkv[at+2*ld:at+2*ld+hd]
			r3, r4, r5 := a.qkv[at+3*ld:at+3*ld+hd], a.qkv[at+4*ld:at+4*ld+hd], a.qkv[at+5*ld:at+5*ld+hd]
			for p := range r0 {
				d := panel[p*attnMR : p*attnMR+attnMR : p*attnMR+attnMR]
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p]*c, r1[p]*c, r2[p]*c, r3[p]*c, r4[p]*c, r5[p]*c
			}
			continue
		}
		clear(panel)
		for i := 0; row+i < q1; i++ {
			for p, x := range a.qkv[qBase+(row+i)*ld : qBase+(row+i)*ld+hd] {
				panel[p*attnMR+i] = x * c
			}
		}
	}
	o := w.o[:mps*attnMR*hdv]
	clear(o)
	negInf := float32(math.Inf(-1))
	for r := 0; r < mps; r++ {
		w.m[r] = [8]float32{negInf, negInf, negInf, negInf, negInf, negInf, 0, 0}
	}
	clear(w.l[:])

	k := a.k
	full := hdv / attnNR // 16-column value panels
	for j0 := 0; j0 < lp; j0 += attnBK {
		if closed(done) {
			return false
		}
		kb := min(attnBK, lp-j0)
		valid := min(kb, kv.seg.length-j0)
		kBlock := kv.kp[j0*hd : (j0+kb)*hd]
		for r := 0; r < mps; r++ {
			s := w.s
			k.scores(hd, w.q[r*hd*attnMR:(r+1)*hd*attnMR], kBlock, s, attnBK, kb/attnNR)
			if valid < kb {
				for i := 0; i < attnMR; i++ {
					for j := valid; j < kb; j++ {
						s[i*attnBK+j] = negInf // padding keys
					}
				}
			}
			k.softmax(s, attnBK, kb, &w.m[r], &w.alpha, &w.sum)
			for i := 0; i < attnMR; i++ {
				w.l[r*attnMR+i] = w.l[r*attnMR+i]*float64(w.alpha[i]) + float64(w.sum[i])
			}
			or := o[r*attnMR*hdv:]
			if full > 0 {
				k.pv(kb, s, attnBK, kv.vp[j0*attnNR:], lp*attnNR, or, hdv, full, w.alpha[:])
			}
			if hdv%attnNR != 0 {
				k.pv8(kb, s, attnBK, kv.vp[full*attnNR*lp+j0*8:], or[full*attnNR:], hdv, w.alpha[:])
			}
		}
	}

	outBase := kv.seg.start*a.d + kv.head*hd
	for i := 0; i < rows; i++ {
		dst := a.out[outBase+(q0+i)*a.d : outBase+(q0+i)*a.d+hd]
		inv := 1 / w.l[i]
		for c, x := range o[i*hdv : i*hdv+hd] {
			dst[c] = float32(float64(x) * inv)
		}
	}
	return true
}
