package vision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/matrix"
)

// Matrix is a row-major float32 matrix [Rows, Cols] (internal/matrix's, the type textjoin and
// text use too): row r is Data[r·Cols : (r+1)·Cols].
type Matrix = matrix.Matrix

// Output is what Encode returns for a list of items, rows of all items concatenated in input
// order (item i's rows follow item i−1's).
type Output struct {
	// LastHidden is the last block's output before merging, [N, D], rows in merge-window order.
	LastHidden Matrix
	// Pooler is the main merger's output, [N/m², O]: the tokens the text model reads.
	Pooler Matrix
	// Deepstack holds one [N/m², O] matrix per entry of deepstack_visual_indexes, in that order.
	Deepstack []Matrix
	// Grids are the items' grids, as given.
	Grids []Grid
	// NonFinite counts the NaN and infinite values in LastHidden, Pooler and Deepstack: 0 for
	// finite pixels and weights. (Encode refuses non-finite pixels, so others come from the
	// weights or from overflow; callers warn about them.)
	NonFinite int
}

// Encode runs the tower on pixels [N, PatchDim] (rows in merge-window order, as the Hugging Face
// processor returns them) for the items described by grids; N must equal Σ T·H·W, and every
// pixel value must be finite. Attention never crosses items, nor the temporal slices of a video.
//
// Encode stops soon after ctx is done, within one task of the kernel running then (the
// multiplications and attention check ctx between small tasks: see kernels.Linear.
// ForwardContext), and returns an error wrapping ctx.Err() (errors.Is matches it).
func (m *Model) Encode(ctx context.Context, pixels []float32, grids []Grid) (*Output, error) {
	cfg := m.cfg
	n, err := cfg.checkGrids(grids)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	pd := cfg.PatchDim()
	if len(pixels)%pd != 0 {
		return nil, fmt.Errorf("vision: pixel values have %d values, not a whole number of %d-value rows", len(pixels), pd)
	}
	if rows := len(pixels) / pd; rows != n {
		return nil, fmt.Errorf("vision: pixel values have %d rows but the grids describe %d patches", rows, n)
	}
	if err := checkFinite(pixels, pd, grids); err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vision: encode not started: %w", err)
	}
	d, th := cfg.HiddenSize, m.threads

	tr := traceFrom(ctx)

	// Patch embedding and position embedding.
	x := make([]float32, n*d)
	if err := m.patch.ForwardContext(ctx, x, pixels, n, th); err != nil {
		return nil, fmt.Errorf("vision: encode stopped in the patch embedding: %w", err)
	}
	tr.emit(-1, "patch_embed", x, n, d)
	m.addPositions(x, grids)
	tr.emit(-1, "pos_embed", x, n, d)
	cos, sin := m.rotaryTables(grids, n)

	// Segments: every temporal slice of every item attends only to itself.
	var segments []int
	for _, g := range grids {
		for t := 0; t < g.T; t++ {
			segments = append(segments, g.H*g.W)
		}
	}

	s := newScratch(cfg, n, m.compute)
	out := &Output{Grids: append([]Grid(nil), grids...)}
	report, _ := ctx.Value(progressKey{}).(func(done, total int))
	stopped := func(err error, l int) error {
		return fmt.Errorf("vision: encode stopped in block %d of %d: %w", l, len(m.blocks), err)
	}
	for l := range m.blocks {
		if err := ctx.Err(); err != nil {
			return nil, stopped(err, l)
		}
		if err := m.blocks[l].forward(ctx, x, s, cfg, n, segments, cos, sin, th, tr, l); err != nil {
			return nil, stopped(err, l)
		}
		for k, tap := range cfg.DeepstackVisualIndexes {
			if tap == l {
				ds, err := m.deepstack[k].forward(ctx, x, cfg, n, th)
				if err != nil {
					return nil, stopped(err, l)
				}
				out.Deepstack = append(out.Deepstack, ds)
				if tr != nil {
					tr.emit(-1, "deepstack."+strconv.Itoa(k), ds.Data, ds.Rows, ds.Cols)
				}
			}
		}
		if report != nil {
			report(l+1, len(m.blocks))
		}
	}
	if out.Pooler, err = m.merger.forward(ctx, x, cfg, n, th); err != nil {
		return nil, fmt.Errorf("vision: encode stopped in the merger: %w", err)
	}
	tr.emit(-1, "merger", out.Pooler.Data, out.Pooler.Rows, out.Pooler.Cols)
	out.LastHidden = Matrix{Rows: n, Cols: d, Data: x}
	out.NonFinite = out.countNonFinite()
	return out, nil
}

// progressKey is the context key of WithProgress.
type progressKey struct{}

// WithProgress returns a context that makes Encode call report(done, total) after each
// transformer block (done = 1 … total = the depth), on Encode's goroutine, for progress
// displays during long encodes. report must be quick and must not call Encode.
func WithProgress(ctx context.Context, report func(done, total int)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// scratch holds one encode's activations, reused by every block, and the attention kernel of
// the model's arithmetic. (The residual additions are fused into the proj and fc2
// multiplications, so their outputs need no buffer.)
type scratch struct {
	h      []float32 // [N, D] normalised input, then attention output
	qkv    []float32 // [N, 3D]
	mlp    []float32 // [N, I]
	attend attention
}

// attention is kernels.AttentionContext's signature: the float32 kernel or AttentionBF16Context.
type attention = func(ctx context.Context, out, qkv []float32, n, heads, headDim int, segments []int, threads int) error

func newScratch(cfg Config, n int, compute Compute) *scratch {
	d := cfg.HiddenSize
	s := &scratch{
		h:      make([]float32, n*d),
		qkv:    make([]float32, n*3*d),
		mlp:    make([]float32, n*cfg.IntermediateSize),
		attend: kernels.AttentionContext,
	}
	if compute == ComputeBF16 {
		s.attend = kernels.AttentionBF16Context // QKᵀ and PV in bf16 arithmetic too
	}
	return s
}

// forward runs block l on x [N, D] in place:
// x += proj(attn(LN1(x))); x += fc2(act(fc1(LN2(x)))). tr (may be nil) sees the intermediates.
// It returns ctx's error, x half-updated, if ctx is done before the block's end.
func (b *block) forward(ctx context.Context, x []float32, s *scratch, cfg Config, n int, segments []int, cos, sin []float32, th int, tr tracer, l int) error {
	d, hd, heads := cfg.HiddenSize, cfg.HeadDim(), cfg.NumHeads
	kernels.LayerNorm(s.h, x, b.norm1W, b.norm1B, n, d, LayerNormEps, th)
	tr.emit(l, "ln1", s.h, n, d)
	if err := b.qkv.ForwardContext(ctx, s.qkv, s.h, n, th); err != nil {
		return err
	}
	tr.emit(l, "qkv", s.qkv, n, 3*d)
	kernels.Rotary(s.qkv, n, 3*d, 2*heads, hd, cos, sin, th) // q and k: the first 2·heads heads of a row
	if err := s.attend(ctx, s.h, s.qkv, n, heads, hd, segments, th); err != nil {
		return err
	}
	tr.emit(l, "attn", s.h, n, d)
	if err := b.proj.ForwardAddContext(ctx, x, s.h, n, th); err != nil { // x += proj(attn)
		return err
	}
	tr.emit(l, "attn_out", x, n, d)

	kernels.LayerNorm(s.h, x, b.norm2W, b.norm2B, n, d, LayerNormEps, th)
	tr.emit(l, "ln2", s.h, n, d)
	if err := b.fc1.ForwardContext(ctx, s.mlp, s.h, n, th); err != nil {
		return err
	}
	activations[cfg.HiddenAct](s.mlp, th)
	tr.emit(l, "mlp", s.mlp, n, cfg.IntermediateSize)
	if err := b.fc2.ForwardAddContext(ctx, x, s.mlp, n, th); err != nil { // x += fc2(act(fc1))
		return err
	}
	tr.emit(l, "layer_out", x, n, d)
	return nil
}

// forward merges x [N, D] into [N/m², O]. Consecutive m² rows form one token (the rows are in
// merge-window order), so the regrouping is a reinterpretation of the same memory.
// It returns ctx's error if ctx is done before the end.
func (mg *merger) forward(ctx context.Context, x []float32, cfg Config, n, th int) (Matrix, error) {
	d, md := cfg.HiddenSize, cfg.MergedDim()
	tokens := n * d / md
	h := make([]float32, n*d)
	if mg.postShuffle {
		kernels.LayerNorm(h, x, mg.normW, mg.normB, tokens, md, LayerNormEps, th)
	} else {
		kernels.LayerNorm(h, x, mg.normW, mg.normB, n, d, LayerNormEps, th)
	}
	mid := make([]float32, tokens*md)
	if err := mg.fc1.ForwardContext(ctx, mid, h, tokens, th); err != nil {
		return Matrix{}, err
	}
	kernels.GELUErf(mid, th)
	out := make([]float32, tokens*cfg.OutHiddenSize)
	if err := mg.fc2.ForwardContext(ctx, out, mid, tokens, th); err != nil {
		return Matrix{}, err
	}
	return Matrix{Rows: tokens, Cols: cfg.OutHiddenSize, Data: out}, nil
}
