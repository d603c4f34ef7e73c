package text

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// Matrix is a row-major float32 matrix (textjoin's, so that embeddings go to textjoin.Scatter
// and back without a copy).
type Matrix = textjoin.Matrix

// Input is one step of a sequence for Prefill: n new tokens following the Cache's positions.
type Input struct {
	// IDs are the n new tokens.
	IDs []int32
	// Embeds, when not nil, are the input embeddings [n, D] to use instead of embed_tokens rows
	// of IDs: Embed(IDs) with the visual rows placed by textjoin.Scatter. IDs are then only
	// checked for length.
	Embeds *Matrix
	// Positions are the MRoPE positions of the n tokens, rows T, H, W (textjoin.RopeIndex; for
	// a continuation, textjoin.DecodePosition in all three). Nil rows: text positions
	// Cache.Len()+i in all three.
	Positions textjoin.Positions
	// Visual marks the visual rows among the n (textjoin.Placement.Visual), nil when there are
	// none; Deepstack are the DeepStack rows for them (Placement.Deepstack), set j added after
	// decoder layer j (sets beyond the last layer are ignored, as in the reference).
	Visual    []bool
	Deepstack []Matrix
	// AllLogits asks for the logits of every row, [n, V]; otherwise only the last row's, [1, V].
	AllLogits bool
}

// Embed returns the embed_tokens rows of ids, [len(ids), D].
func (m *Model) Embed(ids []int32) (Matrix, error) {
	d := m.cfg.HiddenSize
	x := Matrix{Rows: len(ids), Cols: d, Data: make([]float32, len(ids)*d)}
	for i, id := range ids {
		if id < 0 || int(id) >= m.cfg.VocabSize {
			return Matrix{}, fmt.Errorf("text: token %d at position %d is outside the vocabulary of %d", id, i, m.cfg.VocabSize)
		}
		m.embed.row(x.Row(i), int(id))
	}
	return x, nil
}

// Prefill runs the decoder on in's n tokens, appending their keys and values to c, and returns
// the logits [n, V] (in.AllLogits) or [1, V] (the last row). Every token attends to the cache's
// positions and to the new tokens up to itself (causal). On error c is as before the call.
//
// The forward pass (Qwen3VLTextModel.forward with the lm_head): x = the embeddings; for each
// layer l, x += o(attn(q, k, v)) with q, k the normed, rotated projections of input_norm(x),
// x += down(SiLU(gate(h))·up(h)) with h = post_norm(x), then DeepStack set l added at the
// visual rows when l < len(Deepstack); the final RMSNorm; lm_head. Prefill stops soon after ctx
// is done (between kernel tasks) and returns an error wrapping ctx.Err().
func (m *Model) Prefill(ctx context.Context, c *Cache, in Input) (Matrix, error) {
	cfg := m.cfg
	n := len(in.IDs)
	if n == 0 {
		return Matrix{}, fmt.Errorf("text: prefill of no tokens")
	}
	if c == nil || len(c.k) != cfg.NumLayers || c.kvHeads != cfg.NumKVHeads || c.hd != cfg.HeadDim {
		return Matrix{}, fmt.Errorf("text: the cache was not made by this model")
	}
	if c.len+n > c.maxLen {
		return Matrix{}, fmt.Errorf("text: %d tokens after %d do not fit a cache of %d", n, c.len, c.maxLen)
	}
	var x Matrix
	if in.Embeds != nil {
		if in.Embeds.Rows != n || in.Embeds.Cols != cfg.HiddenSize || len(in.Embeds.Data) != n*cfg.HiddenSize {
			return Matrix{}, fmt.Errorf("text: embeddings are [%d, %d] (%d values) for %d tokens of width %d",
				in.Embeds.Rows, in.Embeds.Cols, len(in.Embeds.Data), n, cfg.HiddenSize)
		}
		x = Matrix{Rows: n, Cols: cfg.HiddenSize, Data: append([]float32(nil), in.Embeds.Data...)}
	} else {
		var err error
		if x, err = m.Embed(in.IDs); err != nil {
			return Matrix{}, err
		}
	}
	pos, err := positions(in.Positions, n, c.len)
	if err != nil {
		return Matrix{}, err
	}
	if in.Visual != nil && len(in.Visual) != n {
		return Matrix{}, fmt.Errorf("text: a visual mask of %d rows for %d tokens", len(in.Visual), n)
	}
	if len(in.Deepstack) > 0 && in.Visual == nil {
		return Matrix{}, fmt.Errorf("text: DeepStack rows without a visual mask")
	}
	if err := ctx.Err(); err != nil {
		return Matrix{}, fmt.Errorf("text: prefill not started: %w", err)
	}
	return m.forward(ctx, c, x, pos, in.Visual, in.Deepstack, in.AllLogits)
}

// Decode runs one token id at MRoPE position pos (all three rows; textjoin.DecodePosition) after
// the cache's positions, appends its keys and values, and returns its logits [V] (a fresh
// slice). It is Prefill of one text token; the projections are Linears of one row (a
// bandwidth-bound GEMV would be faster: a later step).
func (m *Model) Decode(ctx context.Context, c *Cache, id int32, pos int) ([]float32, error) {
	p := []int{pos}
	out, err := m.Prefill(ctx, c, Input{IDs: []int32{id}, Positions: textjoin.Positions{p, p, p}})
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}

// positions returns the three position rows of n tokens: p as given, or text positions
// from start when its rows are nil.
func positions(p textjoin.Positions, n, start int) ([3][]int, error) {
	if p[0] == nil && p[1] == nil && p[2] == nil {
		r := make([]int, n)
		for i := range r {
			r[i] = start + i
		}
		return [3][]int{r, r, r}, nil
	}
	for a, row := range p {
		if len(row) != n {
			return p, fmt.Errorf("text: position row %d has %d values for %d tokens", a, len(row), n)
		}
	}
	return p, nil
}

// scratch holds one forward pass's activations, reused by every layer, and the SwiGLU
// activation of the model's arithmetic.
type scratch struct {
	h        []float32   // [n, D] the normalised input
	q, attn  []float32   // [n, H·hd]
	k, v     []float32   // [n, G·hd]
	gate, up []float32   // [n, I] (dense layers)
	moe      *moeScratch // sparse layers' activations, nil without any
	// silu is kernels.SiLUMul (float32 compute: as PyTorch's float32) or, with bf16 compute,
	// kernels.SiLUMulFast (float32 exp2, far below the bf16 products' error).
	silu func(gate, up []float32, threads int)
}

func newScratch(cfg Config, n int, compute Compute) *scratch {
	s := &scratch{
		h: make([]float32, n*cfg.HiddenSize),
		q: make([]float32, n*cfg.QDim()), attn: make([]float32, n*cfg.QDim()),
		k: make([]float32, n*cfg.KVDim()), v: make([]float32, n*cfg.KVDim()),
		silu: kernels.SiLUMul,
	}
	if compute == ComputeBF16 {
		s.silu = kernels.SiLUMulFast
	}
	dense, sparse := false, false
	for l := 0; l < cfg.NumLayers; l++ {
		if cfg.Sparse(l) {
			sparse = true
		} else {
			dense = true
		}
	}
	if dense {
		s.gate, s.up = make([]float32, n*cfg.IntermediateSize), make([]float32, n*cfg.IntermediateSize)
	}
	if sparse {
		s.moe = newMoEScratch(cfg.MoE, n, cfg.HiddenSize)
	}
	return s
}

// forward runs the layers on x [n, D] (modified in place), then the final norm and lm_head.
func (m *Model) forward(ctx context.Context, c *Cache, x Matrix, pos [3][]int, visual []bool, deepstack []Matrix, all bool) (Matrix, error) {
	cfg, th := m.cfg, m.threads
	n, d := x.Rows, cfg.HiddenSize
	tr := traceFrom(ctx)
	tr.emit(-1, "embed", x.Data, n, d)
	cos, sin := m.ropeTables(pos, n)
	s := newScratch(cfg, n, m.compute)
	for l := range m.layers {
		if err := m.layers[l].forward(ctx, c, l, x.Data, s, cfg, n, cos, sin, th, tr); err != nil {
			return Matrix{}, fmt.Errorf("text: stopped in layer %d of %d: %w", l, len(m.layers), err)
		}
		if l < len(deepstack) {
			if err := textjoin.AddDeepstack(x, visual, deepstack[l]); err != nil {
				return Matrix{}, fmt.Errorf("text: DeepStack set %d: %w", l, err)
			}
			tr.emit(l, "deepstack", x.Data, n, d)
		}
	}
	rows, last := n, x.Data
	if !all {
		rows, last = 1, x.Data[(n-1)*d:]
	}
	h := s.h[:rows*d]
	kernels.RMSNorm(h, last, m.norm, rows, d, cfg.RMSNormEps, th)
	tr.emit(-1, "norm", h, rows, d)
	logits := Matrix{Rows: rows, Cols: cfg.VocabSize, Data: make([]float32, rows*cfg.VocabSize)}
	if err := m.lmHead.ForwardContext(ctx, logits.Data, h, rows, th); err != nil {
		return Matrix{}, fmt.Errorf("text: stopped in lm_head: %w", err)
	}
	tr.emit(-1, "logits", logits.Data, rows, cfg.VocabSize)
	c.len += n
	return logits, nil
}

// forward runs decoder layer l on x [n, D] in place, storing the n new keys and values in c at
// positions c.Len() … c.Len()+n−1 (c.len itself is advanced by the caller, after all layers).
func (ly *layer) forward(ctx context.Context, c *Cache, l int, x []float32, s *scratch, cfg Config, n int, cos, sin []float32, th int, tr tracer) error {
	d, hd, heads, kv := cfg.HiddenSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd, eps := cfg.QDim(), cfg.KVDim(), cfg.RMSNormEps

	kernels.RMSNorm(s.h, x, ly.inputNorm, n, d, eps, th)
	tr.emit(l, "input_norm", s.h, n, d)
	for _, p := range []struct {
		lin *kernels.Linear
		dst []float32
	}{{ly.q, s.q}, {ly.k, s.k}, {ly.v, s.v}} {
		if err := p.lin.ForwardContext(ctx, p.dst, s.h, n, th); err != nil {
			return err
		}
	}
	kernels.RMSNorm(s.q, s.q, ly.qNorm, n*heads, hd, eps, th) // per head
	kernels.RMSNorm(s.k, s.k, ly.kNorm, n*kv, hd, eps, th)
	kernels.Rotary(s.q, n, qd, heads, hd, cos, sin, th)
	kernels.Rotary(s.k, n, kvd, kv, hd, cos, sin, th)
	tr.emit(l, "q", s.q, n, qd)
	tr.emit(l, "k", s.k, n, kvd)
	tr.emit(l, "v", s.v, n, kvd)
	c.store(l, s.k, s.v, n)
	var observe kernels.Weights
	if f := attentionFrom(ctx); f != nil {
		p0 := c.len
		observe = func(i, h int, w []float32) { f(l, p0+i, h, w) }
	}
	if err := kernels.CausalAttentionObserve(ctx, s.attn, s.q, c.k[l], c.v[l], n, c.len, heads, kv, hd, c.maxLen, th, observe); err != nil {
		return err
	}
	tr.emit(l, "attn", s.attn, n, qd)
	if err := ly.o.ForwardAddContext(ctx, x, s.attn, n, th); err != nil { // x += o(attn)
		return err
	}
	tr.emit(l, "attn_out", x, n, d)

	kernels.RMSNorm(s.h, x, ly.postNorm, n, d, eps, th)
	tr.emit(l, "post_norm", s.h, n, d)
	if ly.moe != nil { // x += moe(post_norm)
		if err := ly.moe.forward(ctx, x, s.h, s.moe, s.silu, n, d, th, l, tr); err != nil {
			return err
		}
		tr.emit(l, "layer_out", x, n, d)
		return nil
	}
	if err := ly.gate.ForwardContext(ctx, s.gate, s.h, n, th); err != nil {
		return err
	}
	if err := ly.up.ForwardContext(ctx, s.up, s.h, n, th); err != nil {
		return err
	}
	s.silu(s.gate, s.up, th)
	tr.emit(l, "mlp", s.gate, n, cfg.IntermediateSize)
	if err := ly.down.ForwardAddContext(ctx, x, s.gate, n, th); err != nil { // x += down(mlp)
		return err
	}
	tr.emit(l, "layer_out", x, n, d)
	return nil
}
