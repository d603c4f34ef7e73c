package vision

import (
	"context"

	"github.com/qwen3vl/qwen3vl/internal/trace"
)

// Trace is one named intermediate tensor of a forward pass, handed to the function given to
// WithTrace. The names are stable, so a layer-by-layer diff against the reference
// (tools/reference/trace_vision.py dumps the same tensors from transformers) needs no patching.
//
// Encode traces, in this order (N patches, T = N/m² tokens, rows in merge-window order):
//
//	layer  name           shape    what
//	-1     patch_embed    [N, D]   the patch embedding (Conv3d as a matmul), before positions
//	-1     pos_embed      [N, D]   patch_embed plus the interpolated position embedding: block 0's input
//	 b     ln1            [N, D]   norm1(x)
//	 b     qkv            [N, 3D]  qkv(ln1), before the rotary embedding: q, k, v, each heads × head_dim
//	 b     attn           [N, D]   the attention output, heads concatenated (proj's input)
//	 b     attn_out       [N, D]   x + proj(attn): the residual after attention
//	 b     ln2            [N, D]   norm2(attn_out)
//	 b     mlp            [N, I]   act(fc1(ln2)) (fc2's input)
//	 b     layer_out      [N, D]   attn_out + fc2(mlp): the block's output
//	-1     deepstack.K    [T, O]   DeepStack merger K's output, right after its block's layer_out
//	-1     merger         [T, O]   the main merger's output (Output.Pooler)
//
// for blocks b = 0 … depth−1. The last block's layer_out is Output.LastHidden and deepstack.K is
// Output.Deepstack[K]. The type is internal/trace's Tensor, which text.Trace is too: the
// decoder traces its layers with the same fields.
type Trace = trace.Tensor

// traceKey is the context key of WithTrace.
type traceKey struct{}

// WithTrace returns a context that makes Encode call trace with every named intermediate tensor
// (see Trace), on Encode's goroutine, in forward order. trace must not modify the data nor call
// Encode. Without it, tracing costs one nil check per tensor.
func WithTrace(ctx context.Context, trace func(Trace)) context.Context {
	return context.WithValue(ctx, traceKey{}, trace)
}

// tracer is the trace function of an Encode call, nil when there is none.
type tracer trace.Func

func traceFrom(ctx context.Context) tracer {
	f, _ := ctx.Value(traceKey{}).(func(Trace))
	return f
}

// emit traces data as a [rows, cols] matrix of layer, if there is a trace function.
func (f tracer) emit(layer int, name string, data []float32, rows, cols int) {
	trace.Func(f).Emit(layer, name, data, rows, cols)
}
