package vision

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// TestWeightsBF16 loads the tiny checkpoint, whose weights are bfloat16 on disk, with float32 and
// with bfloat16 weights in memory: rounding bf16 values to bf16 changes nothing and the kernels'
// arithmetic is the same, so every output must be the same bit for bit.
func TestWeightsBF16(t *testing.T) {
	c, dir := checkpointCase(t)
	encode := func(opts Options) *Output {
		t.Helper()
		m, err := Load(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if want := opts.Weights; want != WeightsAuto && m.Weights() != want {
			t.Fatalf("Weights() = %v, want %v", m.Weights(), want)
		}
		px, grids := goldenInputs(t, c, m.Config())
		out, err := m.Encode(context.Background(), px, grids)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, threads := range []int{1, 3} {
		want := encode(Options{Threads: threads, Weights: WeightsF32})
		got := encode(Options{Threads: threads, Weights: WeightsBF16})
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

// TestWeightsAuto: WeightsAuto holds a checkpoint stored wholly in bf16 as bf16, and float32
// weights (synthetic ones, or the same checkpoint converted to F32, or one with a single F32
// tensor) as float32; an unknown mode is an error.
func TestWeightsAuto(t *testing.T) {
	_, dir := checkpointCase(t)
	load := func(dir string, w Weights) (*Model, error) {
		return Load(context.Background(), dir, Options{Threads: 1, Weights: w})
	}
	m, err := load(dir, WeightsAuto)
	if err != nil {
		t.Fatal(err)
	}
	if m.Weights() != WeightsBF16 {
		t.Errorf("bf16 checkpoint: auto chose %v, want bf16", m.Weights())
	}
	r, err := Random(m.Config(), 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Weights() != WeightsF32 {
		t.Errorf("synthetic weights: auto chose %v, want f32", r.Weights())
	}

	// The checkpoint's vision tensors rewritten as F32: all of them, then all but one.
	set, err := safetensors.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var all []safetensors.Tensor
	for _, name := range set.Names() {
		info, _ := set.Info(name)
		v, err := set.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, safetensors.F32Tensor(name, info.Shape, v))
	}
	cfgJSON, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, keepBF16 := range []bool{false, true} {
		ts := slices.Clone(all)
		if keepBF16 {
			// All bf16 but the last tensor: still not "every tensor bf16".
			for i := range ts[:len(ts)-1] {
				info, _ := set.Info(ts[i].Name)
				v, _ := set.Float32(ts[i].Name)
				ts[i] = safetensors.BF16Tensor(ts[i].Name, info.Shape, v)
			}
		}
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "config.json"), cfgJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := safetensors.WriteFile(filepath.Join(d, "model.safetensors"), ts, nil); err != nil {
			t.Fatal(err)
		}
		m, err := load(d, WeightsAuto)
		if err != nil {
			t.Fatal(err)
		}
		if m.Weights() != WeightsF32 {
			t.Errorf("F32 tensors (all but one bf16: %v): auto chose %v, want f32", keepBF16, m.Weights())
		}
	}
	if _, err := load(dir, Weights(7)); err == nil || !strings.Contains(err.Error(), "Weights(7)") {
		t.Errorf("unknown mode: %v", err)
	}
}

func TestParseWeights(t *testing.T) {
	for _, w := range []Weights{WeightsAuto, WeightsF32, WeightsBF16} {
		if got, err := ParseWeights(w.String()); err != nil || got != w {
			t.Errorf("ParseWeights(%q) = %v, %v", w.String(), got, err)
		}
	}
	if _, err := ParseWeights("fp16"); err == nil {
		t.Error("ParseWeights(fp16): no error")
	}
}

// checkpointCase returns the first golden case that runs a checkpoint folder (the bf16 tiny
// checkpoint), and that folder.
func checkpointCase(t *testing.T) (goldenCase, string) {
	t.Helper()
	for _, c := range readManifest(t).Cases {
		if c.Checkpoint != "" {
			return c, filepath.Join(c.Dir, c.Checkpoint)
		}
	}
	t.Fatal("goldens: no case with a checkpoint")
	return goldenCase{}, ""
}
