package kernels

import (
	"sync"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// portableGEMM is a Linear's state in the generic implementation: W [out, in] as given, in
// float32 or as bfloat16 bits (w16, widened to float32 whole on each call), and the bias.
type portableGEMM struct {
	w       []float32
	w16     []uint16
	bias    []float32
	out, in int
}

// wideBufs recycles the float32 copies of W that a bf16 portableGEMM makes per call.
var wideBufs sync.Pool

// forward is gemm's forward: the GEMV (gemv_generic.go) for m ≤ gemvMaxRows, else gemmNT on W
// (widened whole, per call, for bf16).
func (p *portableGEMM) forward(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	if m <= gemvMaxRows {
		return p.gemv(dst, x, m, threads, add, done)
	}
	return p.gemm(dst, x, m, threads, add, done)
}

// gemm is forward by gemmNT, for any m ≥ 1.
func (p *portableGEMM) gemm(dst, x []float32, m, threads int, add bool, done <-chan struct{}) bool {
	if p.w16 == nil {
		return gemmNT(dst, x, p.w, p.bias, m, p.out, p.in, threads, add, done)
	}
	var w []float32
	bp, _ := wideBufs.Get().(*[]float32)
	if bp != nil && cap(*bp) >= len(p.w16) {
		w = (*bp)[:len(p.w16)]
	} else {
		w = make([]float32, len(p.w16))
		bp = &w
	}
	for i, b := range p.w16 {
		w[i] = half.BF16ToF32(b)
	}
	ok := gemmNT(dst, x, w, p.bias, m, p.out, p.in, threads, add, done)
	*bp = w
	wideBufs.Put(bp)
	return ok
}

// Tasks of gemmNT: at most gemmRows rows of a by gemmCols rows of b (output columns), both
// multiples of the 4×4 register block; about 2 × 32 × 256 × K FLOP, 20 ms at most for the
// tower's widest K (4,304) at portable Go's speed.
const (
	gemmRows = 32
	gemmCols = 256
)

// gemmNT computes dst[m,n] = a[m,k]·b[n,k]ᵀ + bias[n] in portable Go, or adds that to dst if add
// (the bias is added to the dot product first, then dst's old value): register blocks of 4 rows
// of a by 4 rows of b, in tasks of gemmRows × gemmCols outputs shared out by runTasks (which
// stops starting them once done is closed: gemmNT then returns false). Every dot product, in a
// block or in an edge, is one float32 chain along k in order, so an output element does not
// depend on m, n, the blocking or the thread split (a batch of items gives each item exactly
// what it gets alone).
func gemmNT(dst, a, b, bias []float32, m, n, k, threads int, add bool, done <-chan struct{}) bool {
	colTasks := (n + gemmCols - 1) / gemmCols
	tasks := (m + gemmRows - 1) / gemmRows * colTasks
	return runTasks(tasks, threads, done, func(_, t int) {
		i0, j0 := t/colTasks*gemmRows, t%colTasks*gemmCols
		gemmNTBlock(dst, a, b, bias, i0, min(i0+gemmRows, m), j0, min(j0+gemmCols, n), n, k, add)
	})
}

// gemmNTBlock computes rows [i0,i1) and columns [j0,j1) of dst.
func gemmNTBlock(dst, a, b, bias []float32, i0, i1, j0, j1, n, k int, add bool) {
	i := i0
	for ; i+4 <= i1; i += 4 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		a2 := a[(i+2)*k : (i+2)*k+k]
		a3 := a[(i+3)*k : (i+3)*k+k]
		j := j0
		for ; j+4 <= j1; j += 4 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			b2 := b[(j+2)*k : (j+2)*k+k]
			b3 := b[(j+3)*k : (j+3)*k+k]
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			var c20, c21, c22, c23, c30, c31, c32, c33 float32
			for p := range a0 {
				x0, x1, x2, x3 := a0[p], a1[p], a2[p], a3[p]
				y0, y1, y2, y3 := b0[p], b1[p], b2[p], b3[p]
				c00 += x0 * y0
				c01 += x0 * y1
				c02 += x0 * y2
				c03 += x0 * y3
				c10 += x1 * y0
				c11 += x1 * y1
				c12 += x1 * y2
				c13 += x1 * y3
				c20 += x2 * y0
				c21 += x2 * y1
				c22 += x2 * y2
				c23 += x2 * y3
				c30 += x3 * y0
				c31 += x3 * y1
				c32 += x3 * y2
				c33 += x3 * y3
			}
			store4(dst[i*n+j:], bias, j, add, c00, c01, c02, c03)
			store4(dst[(i+1)*n+j:], bias, j, add, c10, c11, c12, c13)
			store4(dst[(i+2)*n+j:], bias, j, add, c20, c21, c22, c23)
			store4(dst[(i+3)*n+j:], bias, j, add, c30, c31, c32, c33)
		}
		for ; j < j1; j++ {
			for r := 0; r < 4; r++ {
				set(dst, (i+r)*n+j, dotSeq(a[(i+r)*k:(i+r)*k+k], b[j*k:j*k+k])+biasAt(bias, j), add)
			}
		}
	}
	for ; i < i1; i++ {
		ai := a[i*k : i*k+k]
		for j := j0; j < j1; j++ {
			set(dst, i*n+j, dotSeq(ai, b[j*k:j*k+k])+biasAt(bias, j), add)
		}
	}
}

func store4(d, bias []float32, j int, add bool, c0, c1, c2, c3 float32) {
	if bias != nil {
		c0 += bias[j]
		c1 += bias[j+1]
		c2 += bias[j+2]
		c3 += bias[j+3]
	}
	if add {
		c0 += d[0]
		c1 += d[1]
		c2 += d[2]
		c3 += d[3]
	}
	d[0], d[1], d[2], d[3] = c0, c1, c2, c3
}

// set stores v at d[i], or adds it to d[i] if add.
func set(d []float32, i int, v float32, add bool) {
	if add {
		v += d[i]
	}
	d[i] = v
}

func biasAt(bias []float32, j int) float32 {
	if bias == nil {
		return 0
	}
	return bias[j]
}

// dotSeq returns Σ x[i]·y[i] accumulated in float32 in one chain, in order: the same arithmetic
// as each accumulator of gemmNTBlock's 4×4 blocks.
func dotSeq(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// dot returns Σ x[i]·y[i] over len(x), accumulated in float32 in four interleaved chains.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
