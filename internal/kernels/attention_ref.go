package kernels

import (
	"fmt"
	"math"
)

// AttentionRef is the slow, obviously correct reference for Attention: scaled dot-product
// attention, full (non-causal) within each segment and independently for each head; no row
// attends outside its own segment.
//
//	qkv  [n, 3·heads·headDim]  each row q | k | v, each head's headDim values contiguous
//	out  [n, heads·headDim]    head h at columns [h·headDim, (h+1)·headDim)
//	segments                   lengths of consecutive segments, summing to n
//
// out = softmax(q·kᵀ/√headDim)·v per segment and head. Each query row's scores are float32 dot
// products (four interleaved chains) scaled by 1/√headDim; the exponentials, their sum and the
// weighted sum of v are float64. Memory is O(segment length) per goroutine, never O(n²).
func AttentionRef(out, qkv []float32, n, heads, headDim int, segments []int, threads int) {
	d := heads * headDim
	total := 0
	for _, s := range segments {
		total += s
	}
	if total != n || len(qkv) < n*3*d || len(out) < n*d {
		panic(fmt.Sprintf("kernels: AttentionRef: segments sum to %d, n = %d, qkv %d, out %d", total, n, len(qkv), len(out)))
	}
	// Tasks: (segment start, segment length, head, query block).
	const qBlock = 16
	type task struct{ start, length, head, q0, q1 int }
	var tasks []task
	start := 0
	for _, s := range segments {
		for h := 0; h < heads; h++ {
			for q := 0; q < s; q += qBlock {
				tasks = append(tasks, task{start, s, h, q, min(q+qBlock, s)})
			}
		}
		start += s
	}
	scale := float32(1 / math.Sqrt(float64(headDim)))
	parallelFor(len(tasks), threads, func(lo, hi int) {
		var scores []float32
		acc := make([]float64, headDim)
		for _, t := range tasks[lo:hi] {
			if cap(scores) < t.length {
				scores = make([]float32, t.length)
			}
			scores = scores[:t.length]
			qOff, kOff, vOff := t.head*headDim, d+t.head*headDim, 2*d+t.head*headDim
			for i := t.q0; i < t.q1; i++ {
				row := t.start + i
				q := qkv[row*3*d+qOff : row*3*d+qOff+headDim]
				m := float32(math.Inf(-1))
				for j := 0; j < t.length; j++ {
					kr := t.start + j
					s := dot(q, qkv[kr*3*d+kOff:kr*3*d+kOff+headDim]) * scale
					scores[j] = s
					m = max(m, s)
				}
				clear(acc)
				var sum float64
				for j := 0; j < t.length; j++ {
					p := math.Exp(float64(scores[j] - m))
					sum += p
					vr := t.start + j
					v := qkv[vr*3*d+vOff : vr*3*d+vOff+headDim]
					for c, x := range v {
						acc[c] += p * float64(x)
					}
				}
				o := out[row*d+t.head*headDim : row*d+(t.head+1)*headDim]
				for c := range o {
					o[c] = float32(acc[c] / sum)
				}
			}
		}
	})
}
