package text

import (
	"context"

	"github.com/qwen3vl/qwen3vl/internal/trace"
)

// Trace is one named intermediate tensor of a forward pass, handed to the function given to
// WithTrace, for layer-by-layer diffs against the reference. Prefill and Decode trace, in this
// order (n the new tokens, D hidden, H·hd query width, G·hd key/value width, I the MLP width):
//
//	layer  name         shape      what
//	-1     embed        [n, D]     the input embeddings (embed_tokens rows, visual rows scattered)
//	 l     input_norm   [n, D]     input_layernorm(x)
//	 l     q            [n, H·hd]  q_proj, then q_norm per head, then the rotary embedding
//	 l     k            [n, G·hd]  k_proj, then k_norm per head, then the rotary embedding
//	 l     v            [n, G·hd]  v_proj
//	 l     attn         [n, H·hd]  the attention output, heads concatenated (o_proj's input)
//	 l     attn_out     [n, D]     x + o_proj(attn)
//	 l     post_norm    [n, D]     post_attention_layernorm(attn_out)
//	 l     mlp          [n, I]     SiLU(gate_proj) · up_proj (down_proj's input); dense layers
//	 l     router       [n, E]     a sparse layer's router logits, mlp.gate(post_norm)
//	 l     layer_out    [n, D]     attn_out + down_proj(mlp), or + the experts' weighted sum
//	 l     deepstack    [n, D]     layer_out with DeepStack set l added at the visual rows (l < sets)
//	-1     norm         [r, D]     the final norm of the rows whose logits are computed
//	-1     logits       [r, V]     lm_head(norm)
//
// r is n with Input.AllLogits, else 1 (the last row).
type Trace = trace.Tensor

type traceKey struct{}

// WithTrace returns a context that makes Prefill and Decode call trace with every named
// intermediate tensor (see Trace), on their goroutine, in forward order. trace must not modify
// the data. Without it, tracing costs one nil check per tensor.
func WithTrace(ctx context.Context, trace func(Trace)) context.Context {
	return context.WithValue(ctx, traceKey{}, trace)
}

// tracer is the trace function of a Prefill or Decode call, nil when there is none.
type tracer trace.Func

func traceFrom(ctx context.Context) tracer {
	f, _ := ctx.Value(traceKey{}).(func(Trace))
	return f
}

func (f tracer) emit(layer int, name string, data []float32, rows, cols int) {
	trace.Func(f).Emit(layer, name, data, rows, cols)
}

// Attention observes the attention probabilities of a forward pass: in decoder layer layer,
// the query at cache position row (the token's index in the sequence) of head head (0 …
// NumHeads−1) gave weight w[j] to the key at position j, j = 0 … row (len(w) = row+1, Σ w = 1
// to float32 rounding). They are the weights the attention output was made with
// (kernels.CausalAttentionObserve). It is called from the kernels' goroutines, concurrently
// for distinct (row, head) of one layer, the layers in order; w is valid only during the call
// and must not be modified.
type Attention func(layer, row, head int, w []float32)

type attentionKey struct{}

// WithAttention returns a context that makes Prefill and Decode hand every layer's attention
// weights to observe (see Attention). Without it, the attention costs a context lookup per
// layer and one nil check per row and head.
func WithAttention(ctx context.Context, observe Attention) context.Context {
	return context.WithValue(ctx, attentionKey{}, observe)
}

func attentionFrom(ctx context.Context) Attention {
	f, _ := ctx.Value(attentionKey{}).(Attention)
	return f
}
