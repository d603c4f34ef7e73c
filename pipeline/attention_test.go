package pipeline

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/text"
)

// TestAttentionRecord: an Ask of random:tiny with an image, recorded, gives one row of weights
// per generated token, each head's a distribution over the P+t keys (sums to 1) and the one
// the decoder used: the last layer's attention output (traced) is Σ_j w_j·v_j of the recorded
// weights and the traced values, to float32 rounding, for the prefill's last row (the
// matrix-product path) and the decode steps (the row loop). The answer is the same with and
// without the record; ImageWeights averages the image's pads.
func TestAttentionRecord(t *testing.T) {
	ctx := context.Background()
	spec, err := ParseSpec("random:tiny@7")
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenAssistant(ctx, spec, AssistantOptions{Tokenizer: "../testdata/tokenizer/qwen3vl"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := a.Prepare(ctx, Input{Path: "../testdata/imageproc/inputs/grad_400x300.png"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]map[string]any{{"role": "user", "content": []map[string]any{{"type": "image"}, {"type": "text", "text": "Describe this image."}}}})
	conv, err := chat.ParseConversation(b)
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.MaxNewTokens, gen.EOS, gen.StopStrings, gen.DoSample = 4, nil, nil, false
	plain, err := a.Ask(ctx, conv, []Item{img}, gen, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}

	cfg := a.Decoder.Config()
	last := cfg.NumLayers - 1
	var values, outs [][]float32 // the last layer's v rows (every position) and attn last rows
	tctx := text.WithTrace(ctx, func(tr text.Trace) {
		if tr.Layer != last {
			return
		}
		m := tr.Matrix
		switch tr.Name {
		case "v":
			for i := range m.Rows {
				values = append(values, slices.Clone(m.Data[i*m.Cols:(i+1)*m.Cols]))
			}
		case "attn":
			outs = append(outs, slices.Clone(m.Data[(m.Rows-1)*m.Cols:m.Rows*m.Cols]))
		}
	})
	var rec AttentionRecord
	ans, err := a.Ask(WithAttention(tctx, &rec), conv, []Item{img}, gen, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ans.IDs, plain.IDs) {
		t.Fatalf("with the record %v, without %v", ans.IDs, plain.IDs)
	}
	P := len(ans.PromptIDs)
	if rec.Layer != last || rec.Heads != cfg.NumHeads || rec.Prompt != P || len(rec.Rows) != len(ans.IDs) || len(outs) != len(ans.IDs) {
		t.Fatalf("record: layer %d, %d heads, prompt %d, %d rows; want %d, %d, %d, %d (%d traced)", rec.Layer, rec.Heads, rec.Prompt, len(rec.Rows), last, cfg.NumHeads, P, len(ans.IDs), len(outs))
	}
	hd, group := cfg.HeadDim, cfg.NumHeads/cfg.NumKVHeads
	for tk, row := range rec.Rows {
		keys := P + tk
		for h, w := range row {
			if len(w) != keys {
				t.Fatalf("token %d head %d: %d weights, want %d", tk, h, len(w), keys)
			}
			var sum float64
			for _, x := range w {
				if x < 0 {
					t.Fatalf("token %d head %d: a negative weight %g", tk, h, x)
				}
				sum += float64(x)
			}
			if math.Abs(sum-1) > float64(keys+2)*0x1p-23 {
				t.Errorf("token %d head %d: weights sum to %.9g", tk, h, sum)
			}
			g := h / group
			for c := 0; c < hd; c++ {
				var want, abs float64
				for j, x := range w {
					p := float64(x) * float64(values[j][g*hd+c])
					want, abs = want+p, abs+math.Abs(p)
				}
				got := float64(outs[tk][h*hd+c])
				if math.Abs(got-want) > float64(keys+2)*0x1p-23*abs {
					t.Fatalf("token %d head %d: attn[%d] = %.9g, Σ w·v = %.9g", tk, h, c, got, want)
				}
			}
		}
	}
	iw, err := rec.ImageWeights(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(iw) != ans.ImageTokens {
		t.Fatalf("%d image weights for %d image tokens", len(iw), ans.ImageTokens)
	}
	sp := rec.Spans[0]
	for i, x := range iw {
		var want float64
		for _, row := range rec.Rows {
			for _, w := range row {
				want += float64(w[sp.Token+i])
			}
		}
		want /= float64(len(rec.Rows) * rec.Heads)
		if math.Abs(x-want) > 1e-12*want {
			t.Errorf("image token %d: %g, want the mean %g", i, x, want)
		}
	}
	if _, err := rec.ImageWeights(1, nil); err == nil {
		t.Error("a second image of a one-image prompt: no error")
	}
	if _, err := rec.ImageWeights(0, []int{len(rec.Rows)}); err == nil {
		t.Error("a token beyond the answer: no error")
	}
}
