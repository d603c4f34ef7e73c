package kernels

import (
	"context"
	"math"
	"unsafe"
)

// AttentionBF16 is Attention with its two products in bfloat16 arithmetic, as AVX512_BF16's
// VDPBF16PS computes them: the products are the bf16 GEMM's 8×32 tiles (gemm_bf16.go, the
// assembly micro-kernel where BF16Dot() is true, its Go twin elsewhere), and everything else
// (the online softmax and its rescaling, l, the final division) is Attention's float32 code. It
// has Attention's contract (layouts of qkv and out, segments, scheduling, cancellation, memory
// O(longest segment · headDim)).
//
// The arithmetic, per segment, head and query row (keys taken in blocks of attnBK):
//
//	q̃ = RNE_bf16(q), k̃ = RNE_bf16(k), ṽ = RNE_bf16(v)   to nearest even, subnormals to zero
//	                                                     (RoundBF16NE)
//	s_j = (log₂e/√headDim) · (Σ over pairs (2t, 2t+1) of dims, t = 0, 1, …, of dpbf16Ref steps
//	      from zero; an odd headDim pads a zero), the product rounded to float32 (the tile's
//	      scaled epilogue)
//	online softmax exactly as Attention's (max, exp2, α, l in float32; l's rescaling in float64)
//	P̃ = RNE_bf16(2^(s − m'))              m' the running maximum at that key block
//	D = Σ over pairs of keys (2j, 2j+1) of the block of dpbf16Ref steps of P̃·ṽ, from zero
//	O ← D for the first block, then O ← D + α·O (the product, then the sum, each rounded to
//	      float32: the tile's scaled epilogue)
//	out = O / l
//
// The assembly and the portable path compute exactly this, so they agree bit for bit
// (TestAttentionBF16Kernels); attentionBF16Ref is the slow, obvious reference.
//
// Layouts (L the segment length, Lp = L rounded up to 32, hdp = ⌈headDim/2⌉ dim pairs,
// hdv = headDim rounded up to 32; all bf16 pairs with the even element in the low half):
//
//	K panels: Lp/32 weight panels (packBF16Weights' layout with the keys as output columns):
//	          panel j/32, pair t, key j%32 at uint16 64t + 2(j%32): (k̃_j[2t], k̃_j[2t+1])
//	V panels: hdv/32 weight panels of Vᵀ (the columns as output columns, keys as the inner
//	          dimension): panel c/32, key pair j/2, column c%32 at 64(j/2) + 2(c%32) + j%2
//	Q blocks: the task's rows as activation blocks (packBF16RowsWith from qkv): 8 rows per
//	          block, zero rows up to a whole bf16Unit
//	S:        bf16Unit = 24 rows of attnBK floats: three tile blocks' scores, which the 6-row
//	          softmax kernel takes in four groups
//	P:        one tile block's 8 rows of S packed as an activation block (packBF16RowsWith,
//	          ld attnBK)
//	O:        attnBQ rows of hdv floats.
//
// The pairs live in float32 slots of Attention's scratch pool (two bf16 per slot).
func AttentionBF16(out, qkv []float32, n, heads, headDim int, segments []int, threads int) {
	attention(&bf16Attn, nil, out, qkv, n, heads, headDim, segments, threads)
}

// AttentionBF16Context is AttentionBF16, stopped when ctx is done, exactly as AttentionContext.
func AttentionBF16Context(ctx context.Context, out, qkv []float32, n, heads, headDim int, segments []int, threads int) error {
	if attention(&bf16Attn, ctx.Done(), out, qkv, n, heads, headDim, segments, threads) {
		return nil
	}
	return ctx.Err()
}

// bf16Attn are AttentionBF16's kernels: the assembly tile and packers where the CPU has
// AVX512_BF16 (Go otherwise), the float32 softmax of the active implementation (bit-identical
// to softmaxGo in every implementation).
var bf16Attn = bf16AttnKernels(bf16TileAsm, bf16PackAsm, bf16PairsAsm)

// bf16AttnKernels are AttentionBF16's kernels with this tile (nil: gemmBF16TileGo) and these
// packers (nil: Go).
func bf16AttnKernels(tile bf16Tile, pack bf16Pack, pairs bf16Pairs) attnKernels {
	name := "bf16-asm"
	if tile == nil {
		name, tile = "bf16-generic", gemmBF16TileGo
	}
	return attnKernels{name: name, softmax: active.attn.softmax, tile: tile, pack: pack, pairs: pairs}
}

// bf16Unit is the query rows AttentionBF16 scores and softmaxes together: three 8-row tile
// blocks, four 6-row softmax groups (attnBQ is a multiple).
const bf16Unit = 24

// attnWorkerBF16 is one goroutine's AttentionBF16 scratch (layouts in AttentionBF16's comment).
type attnWorkerBF16 struct {
	qb []uint32  // the task's query rows as activation blocks: attnBQ × ⌈headDim/2⌉
	s  []float32 // bf16Unit × attnBK
	p  []uint32  // 8 × attnBK/2
	o  []float32 // attnBQ × hdv
	// m: the running maxima per 6-row softmax group (lanes 6, 7 scratch); alpha, sum: the
	// softmax kernel's outputs for one group.
	m          [attnBQ / attnMR][8]float32
	alpha, sum [8]float32
	l          [attnBQ]float64
}

// workerFloatsBF16 is workerFloats for AttentionBF16.
func (p attnPlan) workerFloatsBF16() int {
	hdp := (p.hd + 1) / 2
	f := attnBQ*hdp + bf16Unit*attnBK + bf16MR*attnBK/2 + attnBQ*p.hdv
	if len(p.small) > 0 {
		f += p.smallMax * p.kvFloats()
	}
	return f
}

// carve lays w's buffers out in b (workerFloatsBF16 floats) and returns the rest, the K/V
// buffer of small segments.
func (w *attnWorkerBF16) carve(b []float32, p attnPlan) []float32 {
	hdp := (p.hd + 1) / 2
	w.qb, b = pairWords(b[:attnBQ*hdp]), b[attnBQ*hdp:]
	w.s, b = b[:bf16Unit*attnBK], b[bf16Unit*attnBK:]
	w.p, b = pairWords(b[:bf16MR*attnBK/2]), b[bf16MR*attnBK/2:]
	w.o, b = b[:attnBQ*p.hdv], b[attnBQ*p.hdv:]
	return b
}

// pairWords views float32 slots as uint32 words (bf16 pairs).
func pairWords(f []float32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

// halves views float32 slots as uint16 halves (bf16 values).
func halves(f []float32) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(f))), 2*len(f))
}

// pairBF16 is the bf16 pair (x0, x1), x0 in the low half.
func pairBF16(x0, x1 float32) uint32 {
	return uint32(roundBF16Fast(x0)) | uint32(roundBF16Fast(x1))<<16
}

func (a *attnRun) newKVBF16(buf []float32, seg attnSeg, head int) *attnKV {
	lp := ceilTo(seg.length, bf16NR)
	nk := lp * ((a.hd + 1) / 2)
	return &attnKV{seg: seg, head: head, lp: lp, bf16: true, kp: buf[:nk], vp: buf[nk : nk+lp*a.hdv/2]}
}

// packBF16 fills K panels [lo, hi) and the same keys' pairs of the V panels (zero beyond the
// segment and beyond headDim).
func (kv *attnKV) packBF16(a *attnRun, lo, hi int) {
	hd, hdv, ld, l, lp := a.hd, a.hdv, 3*a.d, kv.seg.length, kv.lp
	hdp := (hd + 1) / 2
	kBase := kv.seg.start*ld + a.d + kv.head*hd
	vBase := kBase + a.d
	kw, vw := pairWords(kv.kp), pairWords(kv.vp)
	var group [bf16MR * 64]uint32 // 8 keys as an activation block (up to 128 dims at once)
	for q := lo; q < hi; q++ {
		panel := kw[q*bf16NR*hdp : (q+1)*bf16NR*hdp]
		// K: 8 keys at a time packed as an activation block (pairs t, keys r at 8t + r), then
		// moved to the panel's pair rows (keys at 32t + 8g + r); up to 64 pairs per round.
		for g := 0; g < bf16NR; g += bf16MR {
			j := q*bf16NR + g
			rows := max(0, min(bf16MR, l-j))
			for t0 := 0; t0 < hdp; t0 += 64 {
				tn := min(64, hdp-t0)
				blk := group[:bf16MR*tn]
				if rows == 0 {
					clear(blk)
				} else {
					x := a.qkv[kBase+j*ld+2*t0 : kBase+(j+rows-1)*ld+min(hd, 2*(t0+tn))]
					packBF16RowsWith(blk, x, rows, min(hd, 2*(t0+tn))-2*t0, ld, a.k.pack)
				}
				for t := range tn {
					*(*[bf16MR]uint32)(panel[(t0+t)*bf16NR+g:]) = *(*[bf16MR]uint32)(blk[t*bf16MR:])
				}
			}
		}
		// V: the key pairs of these 32 keys, 32 columns per panel.
		var zero [bf16NR]float32
		for jp := q * bf16NR / 2; jp < (q+1)*bf16NR/2; jp++ {
			for c := 0; c < hdv; c += bf16NR {
				dst := vw[(c/bf16NR)*(lp/2)*bf16NR+jp*bf16NR:][:bf16NR]
				w := max(0, min(bf16NR, hd-c)) // real columns
				r0, r1 := zero[:w], zero[:w]
				if j := 2 * jp; j < l {
					r0 = a.qkv[vBase+j*ld+c:][:w]
				}
				if j := 2*jp + 1; j < l {
					r1 = a.qkv[vBase+j*ld+c:][:w]
				}
				done := 0
				if a.k.pairs != nil {
					done = a.k.pairs(dst[:w], r0, r1)
				}
				for cc := done; cc < w; cc++ {
					dst[cc] = pairBF16(r0[cc], r1[cc])
				}
				clear(dst[w:])
			}
		}
	}
}

// queriesBF16 is queries for AttentionBF16: the rows in units of bf16Unit (the last padded with
// zero query rows), each key block scored, softmaxed and multiplied unit by unit.
func (a *attnRun) queriesBF16(w *attnWorkerBF16, kv *attnKV, q0, q1 int, done <-chan struct{}) bool {
	hd, hdv, ld, lp := a.hd, a.hdv, 3*a.d, kv.lp
	hdp := (hd + 1) / 2
	rows := q1 - q0
	padded := ceilTo(rows, bf16Unit)
	qBase := kv.seg.start*ld + kv.head*hd

	qrows := a.qkv[qBase+q0*ld : qBase+(q0+rows-1)*ld+hd]
	qb := w.qb[:padded*hdp]
	clear(qb[len(packBF16RowsWith(qb, qrows, rows, hd, ld, a.k.pack)):]) // zero rows to the unit's end
	scale := [bf16MR]float32{a.scale, a.scale, a.scale, a.scale, a.scale, a.scale, a.scale, a.scale}
	o := w.o[:padded*hdv] // written whole by the first key block
	negInf := float32(math.Inf(-1))
	for g := range padded / attnMR {
		w.m[g] = [8]float32{negInf, negInf, negInf, negInf, negInf, negInf, 0, 0}
	}
	clear(w.l[:])

	k := a.k
	kh, vh := halves(kv.kp), halves(kv.vp)
	s := w.s
	for j0 := 0; j0 < lp; j0 += attnBK {
		if closed(done) {
			return false
		}
		kb := min(attnBK, lp-j0) // a multiple of 32
		valid := min(kb, kv.seg.length-j0)
		for u := 0; u < padded; u += bf16Unit {
			for b := range bf16Unit / bf16MR {
				qblk := qb[(u/bf16MR+b)*bf16MR*hdp:][:bf16MR*hdp]
				for t := range kb / bf16NR {
					panel := (j0/bf16NR + t) * 2 * bf16NR * hdp
					k.tile(qblk, kh[panel:panel+2*bf16NR*hdp], s[b*bf16MR*attnBK+t*bf16NR:], attnBK, hdp, nil, false, scale[:])
				}
			}
			if valid < kb {
				for i := range bf16Unit {
					row := s[i*attnBK : i*attnBK+kb]
					for j := valid; j < kb; j++ {
						row[j] = negInf // padding keys
					}
				}
			}
			var alpha [bf16Unit]float32
			for g := range bf16Unit / attnMR {
				m := &w.m[u/attnMR+g]
				k.softmax(s[g*attnMR*attnBK:], attnBK, kb, m, &w.alpha, &w.sum)
				for i := range attnMR {
					at := u + g*attnMR + i
					alpha[g*attnMR+i] = w.alpha[i]
					w.l[at] = w.l[at]*float64(w.alpha[i]) + float64(w.sum[i])
				}
			}
			for b := range bf16Unit / bf16MR {
				pb := packBF16RowsWith(w.p, s[b*bf16MR*attnBK:], bf16MR, kb, attnBK, k.pack)
				ob := o[(u+b*bf16MR)*hdv:][:bf16MR*hdv]
				var rescale []float32 // O ← D + α·O after the first key block, O ← D in it
				if j0 > 0 {
					rescale = alpha[b*bf16MR : (b+1)*bf16MR]
				}
				for g := 0; g < hdv; g += bf16NR {
					panel := (g/bf16NR)*bf16NR*lp + j0*bf16NR
					k.tile(pb, vh[panel:panel+bf16NR*kb], ob[g:], hdv, kb/2, nil, j0 > 0, rescale)
				}
			}
		}
	}

	outBase := kv.seg.start*a.d + kv.head*hd
	for i := range rows {
		dst := a.out[outBase+(q0+i)*a.d:][:hd]
		inv := 1 / w.l[i]
		for c, x := range o[i*hdv : i*hdv+hd] {
			dst[c] = float32(float64(x) * inv)
		}
	}
	return true
}
