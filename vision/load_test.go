package vision

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// writeCheckpoint writes the tiny synthetic tower as a checkpoint folder with tensors under
// prefix, letting edit change the tensor list first.
func writeCheckpoint(t *testing.T, prefix string, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	t.Helper()
	cfg, _ := Preset("tiny")
	src := newSyntheticSource(cfg, 3)
	var ts []safetensors.Tensor
	for _, s := range cfg.Tensors() {
		v, _ := src.float32s(s.Name)
		ts = append(ts, safetensors.F32Tensor(prefix+s.Name, s.Shape, v))
	}
	if edit != nil {
		ts = edit(ts)
	}
	dir := t.TempDir()
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(map[string]any{"model_type": "qwen3_vl", "vision_config": cfg})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadPrefixes(t *testing.T) {
	cfg, _ := Preset("tiny")
	want, err := Random(cfg, 3, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 16*cfg.PatchDim())
	for i := range px {
		px[i] = float32(i%13) / 13
	}
	grids := []Grid{{1, 4, 4}}
	ref, err := want.Encode(context.Background(), px, grids)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range prefixes {
		m, err := Load(context.Background(), writeCheckpoint(t, prefix, nil), Options{Threads: 1})
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		out, err := m.Encode(context.Background(), px, grids)
		if err != nil {
			t.Fatal(err)
		}
		for i := range out.Pooler.Data {
			if out.Pooler.Data[i] != ref.Pooler.Data[i] {
				t.Fatalf("prefix %q: pooler[%d] = %v, synthetic model gives %v", prefix, i, out.Pooler.Data[i], ref.Pooler.Data[i])
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	drop := func(name string) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			out := ts[:0]
			for _, x := range ts {
				if x.Name != name {
					out = append(out, x)
				}
			}
			return out
		}
	}
	reshape := func(name string, shape []int) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i, x := range ts {
				if x.Name == name {
					ts[i].Shape = shape // same element count, other shape
				}
			}
			return ts
		}
	}
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
		want []string
	}{
		{"missing tensor", func(t *testing.T) string {
			return writeCheckpoint(t, "model.visual.", drop("model.visual.blocks.2.attn.qkv.bias"))
		}, []string{"model.visual.blocks.2.attn.qkv.bias is missing", "[192]"}},
		{"wrong shape", func(t *testing.T) string {
			return writeCheckpoint(t, "model.visual.", reshape("model.visual.blocks.1.mlp.linear_fc1.weight", []int{64, 200}))
		}, []string{"model.visual.blocks.1.mlp.linear_fc1.weight has shape [64 200], want [200 64]"}},
		{"no vision weights", func(t *testing.T) string {
			return writeCheckpoint(t, "model.language_model.", nil)
		}, []string{"no vision tower weights"}},
		{"config does not fit", func(t *testing.T) string {
			dir := writeCheckpoint(t, "", nil)
			cfg, _ := Preset("tiny")
			cfg.Depth = 6
			js, _ := json.Marshal(cfg)
			os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644)
			return dir
		}, []string{"24 problems", "blocks.4.norm1.weight is missing (want shape [64])"}},
		{"truncated weights", func(t *testing.T) string {
			dir := writeCheckpoint(t, "", nil)
			p := filepath.Join(dir, "model.safetensors")
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-100)
			return dir
		}, []string{"model.safetensors"}},
		{"lying header", func(t *testing.T) string {
			dir := writeCheckpoint(t, "", nil)
			p := filepath.Join(dir, "model.safetensors")
			data, _ := os.ReadFile(p)
			data[0] = 0xff // header length far beyond the file
			os.WriteFile(p, data, 0o644)
			return dir
		}, []string{"model.safetensors"}},
		{"no config", func(t *testing.T) string {
			dir := writeCheckpoint(t, "", nil)
			os.Remove(filepath.Join(dir, "config.json"))
			return dir
		}, []string{"config.json"}},
		{"not a folder", func(t *testing.T) string {
			return filepath.Join(writeCheckpoint(t, "", nil), "model.safetensors")
		}, []string{"not a folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), tc.dir(t), Options{})
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestEncodeInputErrors(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := cfg.PatchDim()
	for _, tc := range []struct {
		name   string
		pixels int
		grids  []Grid
		want   string
	}{
		{"no items", 0, nil, "no items"},
		{"rows mismatch", 15 * row, []Grid{{1, 4, 4}}, "15 rows but the grids describe 16 patches"},
		{"partial row", 16*row + 5, []Grid{{1, 4, 4}}, "not a whole number"},
		{"odd h", 12 * row, []Grid{{1, 3, 4}}, "multiples of the merge size"},
		{"zero t", 0, []Grid{{0, 4, 4}}, "below 1"},
		{"negative", 16 * row, []Grid{{1, -4, -4}}, "below 1"},
		{"overflow", row, []Grid{{1 << 40, 1 << 40, 2}}, "patches in one call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Encode(context.Background(), make([]float32, tc.pixels), tc.grids)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Encode(ctx, make([]float32, 4*row), []Grid{{1, 2, 2}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestWithProgress: Encode reports each block once, in order, with the depth as the total, and
// stops reporting when the context is cancelled mid-way (Encode then returns its error).
func TestWithProgress(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 16*cfg.PatchDim())
	var got []int
	ctx := WithProgress(context.Background(), func(done, total int) {
		if total != cfg.Depth {
			t.Errorf("total %d, want the depth %d", total, cfg.Depth)
		}
		got = append(got, done)
	})
	if _, err := m.Encode(ctx, px, []Grid{{1, 4, 4}}); err != nil {
		t.Fatal(err)
	}
	want := make([]int, cfg.Depth)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	got = got[:0]
	ctx = WithProgress(ctx, func(done, total int) {
		got = append(got, done)
		if done == 1 {
			cancel()
		}
	})
	if _, err := m.Encode(ctx, px, []Grid{{1, 4, 4}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled after block 1: %v", err)
	}
	if !slices.Equal(got, []int{1}) {
		t.Errorf("reports after cancelling: %v, want [1]", got)
	}
}
