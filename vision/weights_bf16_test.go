package vision

import (
	"context"
	"math"
	"path/filepath"
	"testing"
)

// TestWeightsBF16 loads the tiny checkpoint, whose weights are bfloat16 on disk, with float32 and
// with bfloat16 weights in memory: rounding bf16 values to bf16 changes nothing and the kernels'
// arithmetic is the same, so every output must be the same bit for bit.
func TestWeightsBF16(t *testing.T) {
	var c goldenCase
	for _, gc := range readManifest(t).Cases {
		if gc.Checkpoint != "" {
			c = gc
			break
		}
	}
	if c.Checkpoint == "" {
		t.Fatal("goldens: no case with a checkpoint")
	}
	dir := filepath.Join(*goldenDirFlag, c.Checkpoint)
	encode := func(opts Options) *Output {
		t.Helper()
		m, err := Load(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		px, grids := goldenInputs(t, c, m.Config())
		out, err := m.Encode(context.Background(), px, grids)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, threads := range []int{1, 3} {
		want := encode(Options{Threads: threads})
		got := encode(Options{Threads: threads, WeightsBF16: true})
		same := func(name string, g, w Matrix) {
			if g.Rows != w.Rows || g.Cols != w.Cols {
				t.Fatalf("threads %d: %s: shape [%d %d], want [%d %d]", threads, name, g.Rows, g.Cols, w.Rows, w.Cols)
			}
			for i := range w.Data {
				if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
					t.Fatalf("threads %d: %s[%d] = %g with bf16 weights, %g with float32", threads, name, i, g.Data[i], w.Data[i])
				}
			}
		}
		same("last_hidden", got.LastHidden, want.LastHidden)
		same("pooler", got.Pooler, want.Pooler)
		if len(got.Deepstack) != len(want.Deepstack) {
			t.Fatalf("%d deepstack outputs, want %d", len(got.Deepstack), len(want.Deepstack))
		}
		for k := range want.Deepstack {
			same("deepstack", got.Deepstack[k], want.Deepstack[k])
		}
	}
}
