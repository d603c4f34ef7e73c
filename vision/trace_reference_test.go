package vision

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// -trace-ref FILE diffs every traced tensor against a dump of tools/reference/trace_vision.py
// (run from the repository root), layer by layer. The default is the committed dump of the tiny
// bf16 checkpoint (testdata/golden/tiny-checkpoint.trace.safetensors, see testdata/README.md),
// held to the tower goldens' target of 1e-5.
var (
	traceRef = flag.String("trace-ref", "../testdata/golden/tiny-checkpoint.trace.safetensors", "a dump of tools/reference/trace_vision.py to diff every traced tensor against")
	traceTol = flag.Float64("trace-tol", 1e-5, "with -trace-ref: the largest max|Δ|/max|ref| accepted for a traced tensor")
)

// key names a traced tensor as trace_vision.py does: its name outside the blocks,
// "blocks.B.name" inside.
func traceKeyOf(tr Trace) string {
	if tr.Layer < 0 {
		return tr.Name
	}
	return "blocks." + strconv.Itoa(tr.Layer) + "." + tr.Name
}

// TestTraceReference loads the checkpoint and the pixels the dump
// names, encodes them with a trace, and compares each traced tensor with the reference's, in
// order, logging max|Δ|, max|Δ|/max|ref| and the cosine of each.
func TestTraceReference(t *testing.T) {
	if *traceRef == "" {
		t.Skip("no -trace-ref dump (tools/reference/trace_vision.py writes one)")
	}
	ref, err := safetensors.Open(*traceRef)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	meta := ref.Header().Metadata
	var order []string
	if err := json.Unmarshal([]byte(meta["order"]), &order); err != nil {
		t.Fatalf("%s: metadata order: %v", *traceRef, err)
	}
	fromRoot := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join("..", p)
	}
	m, err := Load(context.Background(), fromRoot(meta["model"]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pf, err := safetensors.Open(fromRoot(meta["pixels"]))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	name := "pixel_values"
	if _, ok := pf.Info(name); !ok {
		name = "pixel_values_videos"
	}
	px, err := pf.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ref.Int64("grid_thw")
	if err != nil {
		t.Fatal(err)
	}
	var grids []Grid
	for i := 0; i+2 < len(g); i += 3 {
		grids = append(grids, Grid{int(g[i]), int(g[i+1]), int(g[i+2])})
	}

	var seen []string
	ctx := WithTrace(context.Background(), func(tr Trace) {
		k := traceKeyOf(tr)
		seen = append(seen, k)
		info, ok := ref.Info(k)
		if !ok {
			t.Errorf("%s: not in the reference dump", k)
			return
		}
		if !slices.Equal(info.Shape, []int{tr.Matrix.Rows, tr.Matrix.Cols}) {
			t.Errorf("%s: shape [%d %d], reference %v", k, tr.Matrix.Rows, tr.Matrix.Cols, info.Shape)
			return
		}
		want, err := ref.Float32(k)
		if err != nil {
			t.Fatal(err)
		}
		maxAbs, rel, cos := compare(tr.Matrix.Data, want)
		t.Logf("%-22s %-12s max|Δ| %.3g  rel %.3g  1−cos %.2g", k, fmt.Sprint(info.Shape), maxAbs, rel, 1-cos)
		if !(rel <= *traceTol) {
			t.Errorf("%s: max|Δ|/max|ref| %.3g > %g", k, rel, *traceTol)
		}
	})
	if _, err := m.Encode(ctx, px, grids); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, order) {
		t.Errorf("traced\n%v\nthe reference dumped\n%v", seen, order)
	}
}
