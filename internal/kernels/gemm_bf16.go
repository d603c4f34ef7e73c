package kernels

import "math"

// The bf16 GEMM (issue 19; the Linear of NewLinearBF16Dot, linear_bf16dot.go): C[m, out] = X[m, in] · Wᵀ with X
// rounded to bfloat16 (RoundBF16NE) as it is packed, W given as bfloat16, and every product
// accumulated in float32 by VDPBF16PS's arithmetic (dpbf16Ref), the k-pairs in order.
//
// Layouts. k is taken in pairs, kp = ⌈in/2⌉ of them, an odd in padded with a zero.
//   - Packed activations (packBF16Rows): blocks of bf16MR = 8 rows (the last padded with zero
//     rows); within a block, for each k-pair p, 8 uint32, row r's (X[r, 2p], X[r, 2p+1]) as
//     bf16 (the even element in the low half): bf16MR·kp uint32 per block.
//   - Weight panels (packBF16Weights): panels of bf16NR = 32 output columns (the last padded
//     with zero columns); within a panel, for each k-pair p, 64 uint16: column c's
//     (W[c, 2p], W[c, 2p+1]) at 2c, 2c+1: bf16NR·2·kp uint16 per panel.
//
// A tile is one block × one panel: 8×32 float32, computed over all kp pairs (gemmBF16TileGo,
// or the assembly's 8×32 VDPBF16PS micro-kernel where the CPU has AVX512_BF16).

const (
	bf16MR = 8  // rows of a tile (activation block)
	bf16NR = 32 // columns of a tile (weight panel)
)

// bf16Weights is W [out, in] (bfloat16 bits, row-major) as weight panels.
type bf16Weights struct {
	panels      []uint16 // ⌈out/32⌉ panels of 64·kp
	out, in, kp int
}

// packBF16Weights arranges W [out, in] (bf16 bits, row-major) in weight panels.
func packBF16Weights(w []uint16, out, in int) *bf16Weights {
	kp := (in + 1) / 2
	np := (out + bf16NR - 1) / bf16NR
	p := &bf16Weights{panels: make([]uint16, np*bf16NR*2*kp), out: out, in: in, kp: kp}
	for n := range out {
		panel := p.panels[(n/bf16NR)*bf16NR*2*kp:]
		c := n % bf16NR
		row := w[n*in : (n+1)*in]
		for k, v := range row {
			panel[(k/2)*2*bf16NR+2*c+k%2] = v
		}
	}
	return p
}

// packBF16Rows packs X [m, in] (float32, row-major) as activation blocks into dst, which must
// hold ⌈m/8⌉·8·⌈in/2⌉ uint32; it returns dst so filled.
func packBF16Rows(dst []uint32, x []float32, m, in int) []uint32 {
	return packBF16RowsWith(dst, x, m, in, in, bf16PackAsm)
}

// packBF16RowsWith is packBF16Rows for rows ld ≥ in floats apart (row i at x[i·ld:]), with the
// full blocks' leading 16-column chunks packed by asm, when not nil (bf16PackAsm), and
// everything in Go otherwise.
func packBF16RowsWith(dst []uint32, x []float32, m, in, ld int, asm bf16Pack) []uint32 {
	kp := (in + 1) / 2
	nb := (m + bf16MR - 1) / bf16MR
	dst = dst[:nb*bf16MR*kp]
	if kp == 0 {
		return dst
	}
	for b := range nb {
		block := dst[b*bf16MR*kp : (b+1)*bf16MR*kp]
		rows := min(bf16MR, m-b*bf16MR)
		if rows < bf16MR || in%2 == 1 {
			clear(block)
		}
		p0 := 0 // pairs done by the assembly
		if rows == bf16MR && asm != nil {
			chunks := in / 16
			asm(block, x[b*bf16MR*ld:(b*bf16MR+bf16MR-1)*ld+in], ld, chunks)
			p0 = 8 * chunks
		}
		for r := range rows {
			row := x[(b*bf16MR+r)*ld:][:in]
			out := block[r:]
			for p := p0; p < in/2; p++ {
				out[p*bf16MR] = uint32(roundBF16Fast(row[2*p])) | uint32(roundBF16Fast(row[2*p+1]))<<16
			}
			if in%2 == 1 {
				out[(kp-1)*bf16MR] = uint32(roundBF16Fast(row[in-1]))
			}
		}
	}
	return dst
}

// roundBF16Fast is RoundBF16NE with the normal case inline.
func roundBF16Fast(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7f800000-0x00800000 >= 0x7f000000 { // exponent 0 (wraps) or 255
		return roundBF16Special(f)
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// roundBF16Special is RoundBF16NE out of line, so that roundBF16Fast inlines.
//
//go:noinline
func roundBF16Special(f float32) uint16 { return RoundBF16NE(f) }

// bf16Pack is an activation packer for full 8-row blocks (bf16PackAsm): the first 16·chunks
// columns of 8 rows of x, ld floats apart, into block.
type bf16Pack = func(block []uint32, x []float32, ld, chunks int)

// bf16Pairs packs two float32 rows column by column as bf16 pairs, dst[c] = (r0[c], r1[c]),
// for a leading part of dst's columns, and returns how many (bf16PairsAsm).
type bf16Pairs = func(dst []uint32, r0, r1 []float32) int

// bf16Tile is a tile implementation: gemmBF16TileGo or the assembly's (bf16TileAsm).
type bf16Tile = func(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool, scale []float32)

// gemmBF16TileGo is one 8×32 tile in portable Go: c[r·ldc + j] = the bf16 dot product of
// block row r and panel column j over kp pairs, from zero, as VDPBF16PS lanes (the panel the
// first source, the block the second), then + bias[j] if bias is not nil (it holds 32), then
// added to c's value if add: c = c + (dot + bias). With scale (8 values, one per row) and add,
// c = (dot + bias) + scale[r]·c (AttentionBF16's O ← D + α·O); with scale and not add,
// c = scale[r]·(dot + bias) (its scaled scores); each operation rounded.
func gemmBF16TileGo(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool, scale []float32) {
	tileRowsBF16Go(bf16MR, a, b, c, ldc, kp, bias, add, scale)
}

// bf16Tile4 is a four-row tile implementation: gemmBF16Tile4Go or the assembly's
// (bf16Tile4Asm).
type bf16Tile4 = func(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool)

// gemmBF16Tile4Go is rows 0–3 of gemmBF16TileGo (no scale), from the same packed 8-row block,
// bit for bit: the tile for a call's last block when it has at most four rows.
func gemmBF16Tile4Go(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool) {
	tileRowsBF16Go(4, a, b, c, ldc, kp, bias, add, nil)
}

// tileRowsBF16Go is gemmBF16TileGo for the block's first rows rows.
func tileRowsBF16Go(rows int, a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool, scale []float32) {
	a, b = a[:bf16MR*kp], b[:bf16NR*2*kp]
	if bias != nil {
		bias = bias[:bf16NR]
	}
	if scale != nil {
		scale = scale[:bf16MR]
	}
	for r := range rows {
		for j := range bf16NR {
			var acc float32
			for p := range kp {
				x := a[p*bf16MR+r]
				w := b[p*2*bf16NR+2*j:]
				acc = dpbf16Ref(acc, w[0], w[1], uint16(x), uint16(x>>16))
			}
			if bias != nil {
				acc += bias[j]
			}
			switch {
			case add && scale != nil:
				acc += scale[r] * c[r*ldc+j]
			case add:
				acc += c[r*ldc+j]
			case scale != nil:
				acc = scale[r] * acc
			}
			c[r*ldc+j] = acc
		}
	}
}

// bf16RowPack packs the first 16·chunks floats of one row into 8·chunks pairs as packBF16Row
// does (bf16RowPackAsm).
type bf16RowPack = func(dst []uint32, x []float32, chunks int)

// packBF16Row packs one row x [in] as the one-row kernels read it, its pairs back to back:
// dst[p] = x[2p] rounded by RoundBF16NE in the low half, x[2p+1] in the high half (zero for an
// odd in's last pair), ⌈in/2⌉ uint32: row 0 of packBF16Rows' block with the seven other rows'
// slots left out. The leading multiples of 16 floats are packed by asm when not nil
// (bf16RowPackAsm), the rest in Go. It returns dst so filled.
func packBF16Row(dst []uint32, x []float32, in int, asm bf16RowPack) []uint32 {
	kp := (in + 1) / 2
	dst, x = dst[:kp], x[:in]
	p0 := 0
	if asm != nil {
		chunks := in / 16
		asm(dst, x, chunks)
		p0 = 8 * chunks
	}
	for p := p0; p < in/2; p++ {
		dst[p] = uint32(roundBF16Fast(x[2*p])) | uint32(roundBF16Fast(x[2*p+1]))<<16
	}
	if in%2 == 1 {
		dst[kp-1] = uint32(roundBF16Fast(x[in-1]))
	}
	return dst
}

// bf16Gemv is a one-row tile implementation: gemvBF16DotGo or the assembly's (bf16GemvAsm).
type bf16Gemv = func(a []uint32, b []uint16, c []float32, kp int, bias []float32, add bool)

// gemvBF16DotGo is row 0 of gemmBF16TileGo (no scale): c[j] for j < 32 from one row packed by
// packBF16Row (its pair p at a[p], as at a[8p] of a block's row 0) and the panel b, bit for bit what the tile gives that row, without the
// other rows' products: the decode step's matrix-vector product.
func gemvBF16DotGo(a []uint32, b []uint16, c []float32, kp int, bias []float32, add bool) {
	b, c = b[:bf16NR*2*kp], c[:bf16NR]
	if bias != nil {
		bias = bias[:bf16NR]
	}
	for j := range bf16NR {
		var acc float32
		for p := range kp {
			x := a[p]
			w := b[p*2*bf16NR+2*j:]
			acc = dpbf16Ref(acc, w[0], w[1], uint16(x), uint16(x>>16))
		}
		if bias != nil {
			acc += bias[j]
		}
		if add {
			acc += c[j]
		}
		c[j] = acc
	}
}

// gemmBF16Ref is the definition, from unpacked operands: dst[i, n] = Σ over k-pairs p in order
// of X[i, 2p:2p+2] (rounded by RoundBF16NE) · W[n, 2p:2p+2], each pair one VDPBF16PS lane step
// (dpbf16Ref) from zero, an odd in padded with a zero. W is the instruction's first source and
// X its second (what decides which NaN a NaN-carrying product gives).
func gemmBF16Ref(x []float32, w []uint16, m, out, in int) []float32 {
	dst := make([]float32, m*out)
	at := func(i int, row []float32, wr []uint16) (uint16, uint16) {
		if i < len(row) {
			return RoundBF16NE(row[i]), wr[i]
		}
		return 0, 0
	}
	for i := range m {
		xr := x[i*in : (i+1)*in]
		for n := range out {
			wr := w[n*in : (n+1)*in]
			var acc float32
			for k := 0; k < in; k += 2 {
				x0, w0 := at(k, xr, wr)
				x1, w1 := at(k+1, xr, wr)
				acc = dpbf16Ref(acc, w0, w1, x0, x1)
			}
			dst[i*out+n] = acc
		}
	}
	return dst
}

// bf16GEMMFLOPs is the work of one m×out×in multiplication, 2 per product-add.
func bf16GEMMFLOPs(m, out, in int) float64 { return 2 * float64(m) * float64(out) * float64(in) }
