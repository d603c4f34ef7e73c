package kernels

import (
	"math/bits"
	"sync"
)

// A Linear in bfloat16 arithmetic (issue 19's `-compute bf16`): W held as bfloat16 in the bf16
// GEMM's weight panels, each call's activations rounded to bfloat16 (RoundBF16NE) as they are
// packed, every product accumulated in float32 by VDPBF16PS's arithmetic (gemm_bf16.go). Not
// the arithmetic of NewLinear or NewLinearBF16 (those multiply in float32): its outputs differ
// from theirs by bfloat16's rounding of x, as PyTorch's bfloat16 matmul's do from float32's.

// NewLinearBF16Dot is a Linear that multiplies in bfloat16 arithmetic: w holds W [out, in] as
// bfloat16 bits (copied into the panels, not retained), bias [out] (or nil) stays float32.
// Forward computes, for each output, y = (Σ over k-pairs in order, from zero, of the
// VDPBF16PS lane step with W's pair the first source and x's rounded pair the second) + bias,
// and ForwardAdd dst + y. The assembly micro-kernel runs where BF16().AVX512BF16 and the build
// has assembly (BF16Dot); elsewhere its portable Go twin gives the same bits, many times
// slower. A one-row call (a decode step) runs a one-row kernel that computes exactly the tile's
// row (reading each weight panel once, without the padding rows' products), so a row's result
// does not depend on how many rows a call has.
func NewLinearBF16Dot(w []uint16, bias []float32, out, in int) (*Linear, error) {
	return newLinearBF16Dot(w, bias, out, in, bf16TileAsm, bf16Tile4Asm, bf16PackAsm, bf16GemvAsm, bf16Gemv4Asm)
}

// BF16Dot reports whether NewLinearBF16Dot's Linears run the AVX512_BF16 assembly here (else
// the portable Go, correct but slow: models refuse bf16 compute then).
func BF16Dot() bool { return bf16TileAsm != nil }

// newLinearBF16Dot is NewLinearBF16Dot with the given tiles (eight rows, four rows), packing
// and one-row kernels (one panel, four panels; nil: Go).
func newLinearBF16Dot(w []uint16, bias []float32, out, in int, tile bf16Tile, tile4 bf16Tile4, pack bf16Pack, gemv, gemv4 bf16Gemv) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	if tile == nil {
		tile = gemmBF16TileGo
	}
	if tile4 == nil {
		tile4 = gemmBF16Tile4Go
	}
	if gemv == nil {
		gemv = gemvBF16DotGo
	}
	if gemv4 == nil {
		gemv4 = gemv4BF16DotGo
	}
	g := &bf16DotGEMM{w: packBF16Weights(w, out, in), tile: tile, tile4: tile4, pack: pack, gemv: gemv, gemv4: gemv4}
	if pack != nil {
		g.rowPack = bf16RowPackAsm
	}
	if bias != nil {
		g.bias = make([]float32, len(g.w.panels)/(2*g.w.kp)) // padded to whole panels
		copy(g.bias, bias)
	}
	return &Linear{In: in, Out: out, g: g}, nil
}

// bf16DotGEMM is a Linear's gemm in bfloat16 arithmetic.
type bf16DotGEMM struct {
	w    *bf16Weights
	bias []float32 // [out] padded with zeros to whole panels, or nil
	tile bf16Tile
	// tile4 is tile for rows 0–3 only: a call's last block when it has at most four rows.
	tile4 bf16Tile4
	pack  bf16Pack
	// rowPack packs a one-row call's x (packBF16Row): the assembly where pack is, else nil (Go).
	rowPack bf16RowPack
	gemv    bf16Gemv // one-row calls (decode steps): row 0 of the tile, the panel read once
	// gemv4 is gemv on four consecutive full panels at once (more chains in flight).
	gemv4 bf16Gemv
}

// gemv4BF16DotGo is gemvBF16DotGo on four consecutive panels (b 4·64·kp uint16, c and bias
// 128 floats): bf16Gemv4Asm's Go twin.
func gemv4BF16DotGo(a []uint32, b []uint16, c []float32, kp int, bias []float32, add bool) {
	for p := range 4 {
		var pbias []float32
		if bias != nil {
			pbias = bias[p*bf16NR:]
		}
		gemvBF16DotGo(a, b[p*bf16NR*2*kp:], c[p*bf16NR:], kp, pbias, add)
	}
}

// bf16RowsPerTask is how many rows (whole 8-row blocks) one task of a call multiplies against
// one weight panel: the panel stays in cache while they pass over it, and a task is a few
// milliseconds at most (256 rows × 32 columns × 4096 inputs is 67 MFLOP).
const bf16RowsPerTask = 256

// packedRowBufs recycles the packed activations of bf16 calls.
var packedRowBufs sync.Pool

// forward packs x (one task per 8-row block; one row alone, a decode step's, by packBF16Row:
// a block's row 0 without the padding rows, 8× less to write and to read), then multiplies (one task per weight panel and
// chunk of row blocks), each phase by runTasks on up to threads goroutines; once done is
// closed no further task starts and forward returns false, with dst partly computed.
func (g *bf16DotGEMM) forward(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	w := g.w
	nb := (m + bf16MR - 1) / bf16MR
	n := nb * bf16MR * w.kp
	if m == 1 {
		n = w.kp
	}
	bp, _ := packedRowBufs.Get().(*[]uint32)
	if bp == nil || cap(*bp) < n {
		b := make([]uint32, n, 1<<bits.Len(uint(n-1)))
		bp = &b
	}
	a := (*bp)[:n]
	defer packedRowBufs.Put(bp)

	if m == 1 {
		if closed(done) {
			return false
		}
		return g.multiplyRow(dst, packBF16Row(a, x, w.in, g.rowPack), threads, add, done)
	}
	if !runTasks(nb, threads, done, func(_, b int) { g.packBlock(a, x, m, b) }) {
		return false
	}
	return g.multiply(dst, a, m, threads, add, done)
}

// bf16GemvPanels is how many weight panels one task of a one-row call multiplies: 8 panels of
// a 2048-input Linear are 2 MiB of weights.
const bf16GemvPanels = 8

// multiplyRow is multiply for one row (m = 1, a packed by packBF16Row) with the one-row kernel,
// bit for bit what the tile gives: one task per bf16GemvPanels weight panels.
func (g *bf16DotGEMM) multiplyRow(dst []float32, a []uint32, threads int, add bool, done <-chan struct{}) bool {
	w := g.w
	kp, out := w.kp, w.out
	np := (out + bf16NR - 1) / bf16NR
	tasks := (np + bf16GemvPanels - 1) / bf16GemvPanels
	return runTasks(tasks, threads, done, func(_, t int) {
		p, end := t*bf16GemvPanels, min((t+1)*bf16GemvPanels, np)
		for ; p+4 <= end && (p+4)*bf16NR <= out; p += 4 {
			n0 := p * bf16NR
			var bias []float32
			if g.bias != nil {
				bias = g.bias[n0 : n0+4*bf16NR]
			}
			g.gemv4(a, w.panels[p*bf16NR*2*kp:][:4*bf16NR*2*kp], dst[n0:n0+4*bf16NR], kp, bias, add)
		}
		for ; p < end; p++ {
			n0 := p * bf16NR
			pw := w.panels[p*bf16NR*2*kp:][:bf16NR*2*kp]
			var bias []float32
			if g.bias != nil {
				bias = g.bias[n0 : n0+bf16NR]
			}
			if n0+bf16NR <= out {
				g.gemv(a, pw, dst[n0:n0+bf16NR], kp, bias, add)
				continue
			}
			var tmp [bf16NR]float32
			g.gemv(a, pw, tmp[:], kp, bias, false)
			storeEdge(dst[n0:out], tmp[:], add)
		}
	})
}

// multiply computes dst from activations a packed by packBF16Rows (m rows), one task per
// weight panel and chunk of bf16RowsPerTask rows, as forward's second phase.
func (g *bf16DotGEMM) multiply(dst []float32, a []uint32, m, threads int, add bool, done <-chan struct{}) bool {
	nb := (m + bf16MR - 1) / bf16MR
	np := (g.w.out + bf16NR - 1) / bf16NR
	perTask := bf16RowsPerTask / bf16MR
	chunks := (nb + perTask - 1) / perTask
	return runTasks(np*chunks, threads, done, func(_, t int) {
		p, c := t/chunks, t%chunks
		b0 := c * perTask
		g.panel(dst, a, m, p, b0, min(b0+perTask, nb), add)
	})
}

// packBlock packs 8-row block b of x [m, in] into a (packBF16Rows' layout).
func (g *bf16DotGEMM) packBlock(a []uint32, x []float32, m, b int) {
	kp, in := g.w.kp, g.w.in
	rows := min(bf16MR, m-b*bf16MR)
	packBF16RowsWith(a[b*bf16MR*kp:(b+1)*bf16MR*kp], x[b*bf16MR*in:(b*bf16MR+rows)*in], rows, in, in, g.pack)
}

// panel computes dst's columns of weight panel p for row blocks [b0, b1): each 8×32 tile from
// zero, plus the bias, then stored (added to dst if add) by the tile itself, or for an edge
// tile through a scratch tile; a last block of at most four rows by the four-row tile (half
// the products of a padded 8-row one).
func (g *bf16DotGEMM) panel(dst []float32, a []uint32, m, p, b0, b1 int, add bool) {
	w := g.w
	kp, out, n0 := w.kp, w.out, p*bf16NR
	cols := min(bf16NR, out-n0)
	pw := w.panels[p*bf16NR*2*kp:][:bf16NR*2*kp]
	var bias []float32
	if g.bias != nil {
		bias = g.bias[n0 : n0+bf16NR]
	}
	var tmp [bf16MR * bf16NR]float32
	for b := b0; b < b1; b++ {
		i0 := b * bf16MR
		rows := min(bf16MR, m-i0)
		blk := a[b*bf16MR*kp:][:bf16MR*kp]
		if rows == bf16MR && cols == bf16NR {
			g.tile(blk, pw, dst[i0*out+n0:], out, kp, bias, add, nil)
			continue
		}
		if rows <= 4 && g.tile4 != nil {
			if rows == 4 && cols == bf16NR {
				g.tile4(blk, pw, dst[i0*out+n0:], out, kp, bias, add)
				continue
			}
			g.tile4(blk, pw, tmp[:], bf16NR, kp, bias, false)
		} else {
			g.tile(blk, pw, tmp[:], bf16NR, kp, bias, false, nil)
		}
		for r := range rows {
			storeEdge(dst[(i0+r)*out+n0:][:cols], tmp[r*bf16NR:][:cols], add)
		}
	}
}

// storeEdge stores an edge tile's row t into d (as many columns as d has), added to d's values
// if add.
func storeEdge(d, t []float32, add bool) {
	if !add {
		copy(d, t)
		return
	}
	for j, v := range t[:len(d)] {
		d[j] += v
	}
}
