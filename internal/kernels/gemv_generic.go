package kernels

import "math"

// gemv is the generic implementation's forward for m ≤ gemvMaxRows rows, over W [out, in]
// row-major as retained (float32, or bfloat16 widened value by value as it is read: no
// float32 copy of W): each task a chunk of output columns, four columns at a time (four
// independent chains), each row. Every output is dotSeq's chain plus the bias, then dst's old
// value if add: gemmNT's arithmetic for a row outside a 4-row block, so the bits are those
// gemmNT gives for m < 4. (Within its 4-row blocks gemmNT adds no bias when there is none,
// where here 0 is added: the two differ only on a sum of exactly −0, which becomes +0 here.)
func (p *portableGEMM) gemv(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	n, k := p.out, p.in
	elem := 4
	if p.w16 != nil {
		elem = 2
	}
	per := min(ceilTo(gemvChunk(n, k*elem, threads), 4), n)
	tasks := (n + per - 1) / per
	return runTasks(tasks, threads, done, func(_, t int) {
		j0, j1 := t*per, min((t+1)*per, n)
		for i := range m {
			row, d := x[i*k:(i+1)*k], dst[i*n:(i+1)*n]
			if p.w16 != nil {
				gemvRowsBF16(d, row, p.w16, p.bias, j0, j1, add)
			} else {
				gemvRowsF32(d, row, p.w, p.bias, j0, j1, add)
			}
		}
	})
}

// gemvRowsF32 sets d[j] (or adds to it, if add) = x·W[j] + bias[j] for j in [j0, j1), W the
// rows of w of len(x) floats.
func gemvRowsF32(d, x, w, bias []float32, j0, j1 int, add bool) {
	k := len(x)
	j := j0
	for ; j+4 <= j1; j += 4 {
		w0 := w[j*k : (j+1)*k][:k]
		w1 := w[(j+1)*k : (j+2)*k][:k]
		w2 := w[(j+2)*k : (j+3)*k][:k]
		w3 := w[(j+3)*k : (j+4)*k][:k]
		var s0, s1, s2, s3 float32
		for p, v := range x {
			s0 += v * w0[p]
			s1 += v * w1[p]
			s2 += v * w2[p]
			s3 += v * w3[p]
		}
		set(d, j, s0+biasAt(bias, j), add)
		set(d, j+1, s1+biasAt(bias, j+1), add)
		set(d, j+2, s2+biasAt(bias, j+2), add)
		set(d, j+3, s3+biasAt(bias, j+3), add)
	}
	for ; j < j1; j++ {
		set(d, j, dotSeq(x, w[j*k:(j+1)*k])+biasAt(bias, j), add)
	}
}

// gemvRowsBF16 is gemvRowsF32 for W as bfloat16 bits.
func gemvRowsBF16(d, x []float32, w []uint16, bias []float32, j0, j1 int, add bool) {
	k := len(x)
	j := j0
	for ; j+4 <= j1; j += 4 {
		w0 := w[j*k : (j+1)*k][:k]
		w1 := w[(j+1)*k : (j+2)*k][:k]
		w2 := w[(j+2)*k : (j+3)*k][:k]
		w3 := w[(j+3)*k : (j+4)*k][:k]
		var s0, s1, s2, s3 float32
		for p, v := range x {
			s0 += v * math.Float32frombits(uint32(w0[p])<<16)
			s1 += v * math.Float32frombits(uint32(w1[p])<<16)
			s2 += v * math.Float32frombits(uint32(w2[p])<<16)
			s3 += v * math.Float32frombits(uint32(w3[p])<<16)
		}
		set(d, j, s0+biasAt(bias, j), add)
		set(d, j+1, s1+biasAt(bias, j+1), add)
		set(d, j+2, s2+biasAt(bias, j+2), add)
		set(d, j+3, s3+biasAt(bias, j+3), add)
	}
	for ; j < j1; j++ {
		wj := w[j*k : (j+1)*k][:k]
		var s float32
		for p, v := range x {
			s += v * math.Float32frombits(uint32(wj[p])<<16)
		}
		set(d, j, s+biasAt(bias, j), add)
	}
}
