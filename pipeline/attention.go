package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// AttentionRecord collects, during one [Session.Ask] whose context carries it
// ([WithAttention]), the attention weights of the decoder's last layer for the query rows that
// chose the answer's tokens: the model's own softmax weights (text.WithAttention), copied.
// Generated token t was chosen from the logits of the row at position P−1+t (P the prompt's
// length): t = 0 is the prefill's last row, the others are the decode steps of the tokens
// before. Read it after Ask has returned.
type AttentionRecord struct {
	mu sync.Mutex
	// Layer is the decoder layer recorded (the last, NumLayers−1) and Heads its query heads.
	Layer, Heads int
	// Prompt is the prompt's length P in tokens; Spans are its items' pad spans
	// (textjoin.Description.Spans: an image's tokens are Spans[i].Token … +Pads−1, in
	// merge-window order).
	Prompt int
	Spans  []textjoin.Span
	// Rows[t][h] are head h's weights over keys 0 … P−1+t for generated token t.
	Rows [][][]float32
}

type attentionKey struct{}

// WithAttention returns a context that makes Ask fill r (reset first).
func WithAttention(ctx context.Context, r *AttentionRecord) context.Context {
	return context.WithValue(ctx, attentionKey{}, r)
}

// watch resets r for a prompt of n tokens with spans and returns ctx observing the decoder's
// last layer into it; ctx unchanged when it carries no record.
func watch(ctx context.Context, dec *text.Model, n int, spans []textjoin.Span) context.Context {
	r, _ := ctx.Value(attentionKey{}).(*AttentionRecord)
	if r == nil {
		return ctx
	}
	cfg := dec.Config()
	r.mu.Lock()
	r.Layer, r.Heads, r.Prompt, r.Spans, r.Rows = cfg.NumLayers-1, cfg.NumHeads, n, spans, nil
	r.mu.Unlock()
	return text.WithAttention(ctx, r.observe)
}

func (r *AttentionRecord) observe(layer, row, head int, w []float32) {
	t := row - (r.Prompt - 1)
	if layer != r.Layer || t < 0 {
		return
	}
	c := append([]float32(nil), w...)
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.Rows) <= t {
		r.Rows = append(r.Rows, nil)
	}
	if r.Rows[t] == nil {
		r.Rows[t] = make([][]float32, r.Heads)
	}
	r.Rows[t][head] = c
}

// ImageWeights returns the weight each merged token of the k-th image (counting images only,
// from 0) received, in merge-window order (pooler_output's rows), averaged over the heads and
// over the generated tokens ts (every recorded token when ts is nil), in float64 in a fixed
// order. Errors name a missing image, token or head.
func (r *AttentionRecord) ImageWeights(k int, ts []int) ([]float64, error) {
	var sp *textjoin.Span
	for i := range r.Spans {
		if r.Spans[i].Kind == textjoin.KindImage && r.Spans[i].Item == k {
			sp = &r.Spans[i]
		}
	}
	if sp == nil || sp.Token < 0 {
		return nil, fmt.Errorf("pipeline: attention: the prompt has no image %d", k)
	}
	if ts == nil {
		for t := range r.Rows {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("pipeline: attention: no generated token recorded")
	}
	out := make([]float64, sp.Pads)
	for _, t := range ts {
		if t < 0 || t >= len(r.Rows) {
			return nil, fmt.Errorf("pipeline: attention: generated token %d not recorded (%d were)", t, len(r.Rows))
		}
		for h, w := range r.Rows[t] {
			if len(w) < sp.Token+sp.Pads {
				return nil, fmt.Errorf("pipeline: attention: token %d, head %d: %d weights, the image's pads end at %d", t, h, len(w), sp.Token+sp.Pads)
			}
			for i := range out {
				out[i] += float64(w[sp.Token+i])
			}
		}
	}
	n := float64(len(ts) * r.Heads)
	for i := range out {
		out[i] /= n
	}
	return out, nil
}
