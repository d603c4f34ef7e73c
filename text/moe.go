package text

import (
	"context"
	"fmt"
	"math"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// moeBlock is the mixture of experts of a sparse decoder layer (transformers 5.24's
// Qwen3VLMoeTextSparseMoeBlock): a router [E, D] and E experts, each a SwiGLU MLP of width I_e.
// Per token h: p = softmax(router(h)) in float32; the k largest of p in torch.topk's order
// (topK); weights w_j = p_j / Σ p_j over those k; out = Σ_j w_j · down_j(SiLU(gate_j(h)) ·
// up_j(h)), summed in the order of the k slots.
type moeBlock struct {
	router  *kernels.Linear // [E, D]
	experts []expert        // E
	topK    int             // k
	inter   int             // I_e
}

// expert is one expert's MLP: gate and up [I_e, D] (the two halves of the checkpoint's fused
// gate_up_proj), down [D, I_e].
type expert struct {
	gate, up, down *kernels.Linear
}

// expertPart says which fused tensor of a sparse layer a param is.
type expertPart int

const (
	gateUpPart expertPart = iota + 1 // mlp.experts.gate_up_proj
	downPart                         // mlp.experts.down_proj
)

// moeScratch holds one forward pass's MoE activations, sized for n tokens and reused by every
// sparse layer.
type moeScratch struct {
	logits []float32 // [n, E] router logits, then probabilities
	sel    []int32   // [n·k] the chosen experts, token-major, in slot order
	weight []float32 // [n·k] their normalised weights
	order  []int32   // [n·k] (token, slot) pairs grouped by expert, token order within an expert
	start  []int     // [E+1] expert e's pairs are order[start[e]:start[e+1]]
	rows   []float32 // [n·k, D] gathered inputs of one expert, then its down_proj outputs
	gate   []float32 // [n·k, I_e]
	up     []float32 // [n·k, I_e]
	out    []float32 // [n·k, D] w · expert output per (token, slot)
	idx    []int32   // [E] topK scratch
}

func newMoEScratch(m *MoE, n, d int) *moeScratch {
	e, pairs := m.NumExperts, n*m.TopK
	return &moeScratch{
		logits: make([]float32, n*e), sel: make([]int32, pairs), weight: make([]float32, pairs),
		order: make([]int32, pairs), start: make([]int, e+1),
		rows: make([]float32, pairs*d), gate: make([]float32, pairs*m.IntermediateSize),
		up: make([]float32, pairs*m.IntermediateSize), out: make([]float32, pairs*d),
		idx: make([]int32, e),
	}
}

// route turns router logits [n, E] (overwritten by the probabilities) into each token's k
// experts and weights (s.sel, s.weight), as Qwen3VLMoeTextTopKRouter: softmax in float32, topK,
// the k probabilities divided by their float32 sum (in slot order).
func (b *moeBlock) route(s *moeScratch, n int) {
	e, k := len(b.experts), b.topK
	for i := 0; i < n; i++ {
		p := s.logits[i*e : (i+1)*e]
		softmax(p)
		top := topK(p, k, s.idx)
		var sum float32
		for _, x := range top {
			sum += p[x]
		}
		for j, x := range top {
			s.sel[i*k+j] = x
			s.weight[i*k+j] = p[x] / sum
		}
	}
}

// softmax replaces v by its softmax: exp(v − max), each rounded to float32, divided by their
// float32 sum.
func softmax(v []float32) {
	m := float32(math.Inf(-1))
	for _, x := range v {
		if x > m || x != x {
			m = x
		}
	}
	var sum float32
	for i, x := range v {
		v[i] = float32(math.Exp(float64(x - m)))
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
}

// group lists the (token, slot) pairs of every expert, experts in order and tokens in order
// within an expert (s.order, s.start).
func (s *moeScratch) group(n, k int) {
	start := s.start
	clear(start)
	for _, x := range s.sel[:n*k] {
		start[x+1]++
	}
	for e := 1; e < len(start); e++ {
		start[e] += start[e-1]
	}
	next := append([]int(nil), start[:len(start)-1]...)
	for p, x := range s.sel[:n*k] {
		s.order[next[x]] = int32(p)
		next[x]++
	}
}

// forward adds the block's output for the n rows of h [n, D] (post_attention_layernorm of x)
// to x [n, D]. Each expert runs as three GEMMs over the rows routed to it (m = their count);
// experts no token chose are not read, so a decode step reads k of the E experts' weights.
func (b *moeBlock) forward(ctx context.Context, x, h []float32, s *moeScratch, silu func(gate, up []float32, threads int), n, d, th int, l int, tr tracer) error {
	e, k, ie := len(b.experts), b.topK, b.inter
	if err := b.router.ForwardContext(ctx, s.logits[:n*e], h, n, th); err != nil {
		return err
	}
	tr.emit(l, "router", s.logits[:n*e], n, e)
	b.route(s, n)
	s.group(n, k)
	for ex := range b.experts {
		pairs := s.order[s.start[ex]:s.start[ex+1]]
		m := len(pairs)
		if m == 0 {
			continue
		}
		rows, gate, up := s.rows[:m*d], s.gate[:m*ie], s.up[:m*ie]
		for r, p := range pairs {
			i := int(p) / k
			copy(rows[r*d:(r+1)*d], h[i*d:(i+1)*d])
		}
		w := &b.experts[ex]
		if err := w.gate.ForwardContext(ctx, gate, rows, m, th); err != nil {
			return err
		}
		if err := w.up.ForwardContext(ctx, up, rows, m, th); err != nil {
			return err
		}
		silu(gate, up, th)
		if err := w.down.ForwardContext(ctx, rows, gate, m, th); err != nil {
			return err
		}
		for r, p := range pairs {
			wt, dst := s.weight[p], s.out[int(p)*d:(int(p)+1)*d]
			for c, y := range rows[r*d : (r+1)*d] {
				dst[c] = y * wt
			}
		}
	}
	// x += Σ over the slots, in slot order, of w · expert output (the reference sums the k
	// weighted outputs of a token, then adds the sum to the residual).
	acc := s.rows[:d]
	for i := 0; i < n; i++ {
		copy(acc, s.out[i*k*d:(i*k+1)*d])
		for j := 1; j < k; j++ {
			for c, y := range s.out[(i*k+j)*d : (i*k+j+1)*d] {
				acc[c] += y
			}
		}
		xi := x[i*d : (i+1)*d]
		for c, y := range acc {
			xi[c] += y
		}
	}
	return nil
}

// bindExperts builds the experts' Linears of one fused tensor from its values: w holds E
// matrices, each [out, in] in the module layout (gate_up_proj [E, 2I_e, D], down_proj
// [E, D, I_e]) or, released, [in, out] (transposed: [E, D, 2I_e], [E, I_e, D], as the Qwen
// checkpoints store them). makeLinear packs one [out, in] matrix.
func bindExperts[T float32 | uint16](b *moeBlock, part expertPart, w []T, released bool, d int,
	makeLinear func(w []T, out, in int) (*kernels.Linear, error)) error {
	e, ie := len(b.experts), b.inter
	out, in := 2*ie, d
	if part == downPart {
		out, in = d, ie
	}
	per := out * in
	if len(w) != e*per {
		return fmt.Errorf("%d values for %d experts of [%d, %d]", len(w), e, out, in)
	}
	for x := range b.experts {
		src := w[x*per : (x+1)*per]
		m := make([]T, per) // a Linear may retain it (the portable kernels do)
		if released {       // src is [in, out]
			for i := 0; i < in; i++ {
				for o := 0; o < out; o++ {
					m[o*in+i] = src[i*out+o]
				}
			}
		} else {
			copy(m, src)
		}
		var err error
		ex := &b.experts[x]
		if part == downPart {
			ex.down, err = makeLinear(m, d, ie)
		} else if ex.gate, err = makeLinear(m[:ie*d], ie, d); err == nil {
			ex.up, err = makeLinear(m[ie*d:], ie, d)
		}
		if err != nil {
			return fmt.Errorf("expert %d: %w", x, err)
		}
	}
	return nil
}
