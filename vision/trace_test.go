package vision

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestWithTrace: on the tiny tower, the trace sees every documented name in forward order with
// its shape; the views are exactly rows×cols long; the last traced tensors equal Output's; and
// tracing changes no output bit.
func TestWithTrace(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	grids := []Grid{{1, 4, 6}, {2, 2, 2}} // an image and a two-slice video
	n := 24 + 8
	tokens := n / 4
	px := make([]float32, n*cfg.PatchDim())
	for i := range px {
		px[i] = float32(i%29)/29 - 0.5
	}
	d, i, o := cfg.HiddenSize, cfg.IntermediateSize, cfg.OutHiddenSize

	type entry struct {
		layer      int
		name       string
		rows, cols int
	}
	want := []entry{{-1, "patch_embed", n, d}, {-1, "pos_embed", n, d}}
	for l := range cfg.Depth {
		want = append(want,
			entry{l, "ln1", n, d}, entry{l, "qkv", n, 3 * d}, entry{l, "attn", n, d}, entry{l, "attn_out", n, d},
			entry{l, "ln2", n, d}, entry{l, "mlp", n, i}, entry{l, "layer_out", n, d})
		for k, tap := range cfg.DeepstackVisualIndexes {
			if tap == l {
				want = append(want, entry{-1, fmt.Sprintf("deepstack.%d", k), tokens, o})
			}
		}
	}
	want = append(want, entry{-1, "merger", tokens, o})

	var got []entry
	copies := map[string][]float32{}
	ctx := WithTrace(context.Background(), func(tr Trace) {
		got = append(got, entry{tr.Layer, tr.Name, tr.Matrix.Rows, tr.Matrix.Cols})
		if len(tr.Matrix.Data) != tr.Matrix.Rows*tr.Matrix.Cols || cap(tr.Matrix.Data) != len(tr.Matrix.Data) {
			t.Errorf("%d %s: view of len %d, cap %d for [%d, %d]", tr.Layer, tr.Name, len(tr.Matrix.Data), cap(tr.Matrix.Data), tr.Matrix.Rows, tr.Matrix.Cols)
		}
		copies[fmt.Sprintf("%d.%s", tr.Layer, tr.Name)] = slices.Clone(tr.Matrix.Data)
	})
	out, err := m.Encode(ctx, px, grids)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("traced\n%v\nwant\n%v", got, want)
	}

	plain, err := m.Encode(context.Background(), px, grids)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, a, b []float32) {
		t.Helper()
		if !slices.Equal(a, b) {
			t.Errorf("%s differs", name)
		}
	}
	same("last layer_out vs LastHidden", copies[fmt.Sprintf("%d.layer_out", cfg.Depth-1)], out.LastHidden.Data)
	same("merger vs Pooler", copies["-1.merger"], out.Pooler.Data)
	for k := range out.Deepstack {
		same(fmt.Sprintf("deepstack.%d vs Deepstack[%d]", k, k), copies[fmt.Sprintf("-1.deepstack.%d", k)], out.Deepstack[k].Data)
	}
	same("traced LastHidden vs untraced", out.LastHidden.Data, plain.LastHidden.Data)
	same("traced Pooler vs untraced", out.Pooler.Data, plain.Pooler.Data)
	// Each trace shows the tensor at that step: the residual stream before and after a step differ.
	if slices.Equal(copies["0.attn_out"], copies["0.layer_out"]) || slices.Equal(copies["-1.patch_embed"], copies["-1.pos_embed"]) {
		t.Error("a residual step traced the same values before and after")
	}
}
