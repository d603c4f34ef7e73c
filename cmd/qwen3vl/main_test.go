package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// runCmd runs the command line args and returns the exit code and stderr.
func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stderr.String()
}

// writePixels writes a pixels file for grids with synthetic values.
func writePixels(t *testing.T, grids [][3]int64) string {
	t.Helper()
	n := 0
	var g []int64
	for _, x := range grids {
		n += int(x[0] * x[1] * x[2])
		g = append(g, x[:]...)
	}
	px := make([]float32, n*1536)
	synth.Fill(px, 5, "pixel_values", 1, 0)
	p := filepath.Join(t.TempDir(), "pixels.safetensors")
	err := safetensors.WriteFile(p, []safetensors.Tensor{
		safetensors.F32Tensor("pixel_values", []int{n, 1536}, px),
		safetensors.I64Tensor("grid_thw", []int{len(grids), 3}, g),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEncodeRandomTiny(t *testing.T) {
	px := writePixels(t, [][3]int64{{1, 4, 6}, {2, 2, 4}})
	out := filepath.Join(t.TempDir(), "out.safetensors")
	code, stderr := runCmd(t, "encode", "-model", "random:tiny", "-pixels", px, "-o", out, "-threads", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, stderr := runCmd(t, "encode", "-model", "random:tiny", "-pixels", px, "-o", filepath.Join(t.TempDir(), "bf16.safetensors"), "-weights", "bf16"); code != 0 {
		t.Fatalf("-weights bf16: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "synthetic random weights") {
		t.Errorf("no notice about synthetic weights in %q", stderr)
	}
	f, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// 24 + 16 patches → 10 tokens of width 96; D = 64; two DeepStack taps.
	for name, shape := range map[string][]int{
		"pooler_output": {10, 96}, "deepstack_features.0": {10, 96}, "deepstack_features.1": {10, 96},
		"last_hidden_state": {40, 64}, "grid_thw": {2, 3},
	} {
		info, ok := f.Info(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if want := safetensors.F32; name == "grid_thw" && info.DType != safetensors.I64 || name != "grid_thw" && info.DType != want {
			t.Errorf("%s: dtype %s", name, info.DType)
		}
		if len(info.Shape) != 2 || info.Shape[0] != shape[0] || info.Shape[1] != shape[1] {
			t.Errorf("%s: shape %v, want %v", name, info.Shape, shape)
		}
	}
	if _, ok := f.Info("deepstack_features.2"); ok {
		t.Error("unexpected deepstack_features.2")
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("QWEN3VL_CACHE", t.TempDir())
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	dir := t.TempDir()
	good := writePixels(t, [][3]int64{{1, 2, 2}})
	mismatch := writePixels(t, [][3]int64{{1, 2, 2}})
	// Rewrite the grid so that it no longer matches the rows.
	f, _ := safetensors.Open(mismatch)
	px, _ := f.Float32("pixel_values")
	f.Close()
	safetensors.WriteFile(mismatch, []safetensors.Tensor{
		safetensors.F32Tensor("pixel_values", []int{4, 1536}, px),
		safetensors.I64Tensor("grid_thw", []int{1, 3}, []int64{1, 4, 4}),
	}, nil)
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("not a safetensors file"), 0o644)
	out := filepath.Join(dir, "out.safetensors")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"empty model", []string{"encode", "-model", "", "-pixels", good, "-o", out}, 2, "no model given"},
		{"offline hub id", []string{"encode", "-model", "Qwen/Qwen3-VL-2B-Instruct", "-pixels", good, "-o", out}, 1, "HF_HUB_OFFLINE"},
		{"unknown preset", []string{"encode", "-model", "random:qwen9", "-pixels", good, "-o", out}, 2, "unknown preset"},
		{"bad seed", []string{"encode", "-model", "random:tiny@x", "-pixels", good, "-o", out}, 2, "seed"},
		{"no input", []string{"encode", "-model", "random:tiny", "-o", out}, 2, "no input"},
		{"both inputs", []string{"encode", "-model", "random:tiny", "-o", out, "-pixels", good, "x.png"}, 2, "not both"},
		{"no output", []string{"encode", "-model", "random:tiny", "-pixels", good}, 2, "-o is required"},
		{"bad flag", []string{"encode", "-frobnicate"}, 2, "frobnicate"},
		{"junk pixels", []string{"encode", "-model", "random:tiny", "-pixels", junk, "-o", out}, 1, "junk.safetensors"},
		{"missing pixels", []string{"encode", "-model", "random:tiny", "-pixels", filepath.Join(dir, "nope"), "-o", out}, 1, "nope"},
		{"grid mismatch", []string{"encode", "-model", "random:tiny", "-pixels", mismatch, "-o", out}, 1, "describes more patches than the 4 rows of pixel_values"},
		{"missing folder", []string{"encode", "-model", filepath.Join(dir, "nomodel"), "-pixels", good, "-o", out}, 1, "nomodel"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"bad weights", []string{"encode", "-model", "random:tiny", "-pixels", good, "-o", out, "-weights", "f16"}, 2, "-weights"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed encode left %s behind", out)
	}
}

func TestBenchTiny(t *testing.T) {
	code, stderr := runCmd(t, "bench", "-model", "random:tiny", "-grid", "1,4,6", "-runs", "1", "-peak-seconds", "0.05", "-threads", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The JSON line names the weights actually used: auto resolves to f32 for synthetic weights.
	for _, w := range []struct{ flag, want string }{{"bf16", "bf16"}, {"auto", "f32"}, {"f32", "f32"}} {
		var stdout, errb bytes.Buffer
		code := run(context.Background(), []string{"bench", "-model", "random:tiny", "-grid", "1,4,6", "-runs", "1", "-peak-seconds", "0", "-threads", "2", "-weights", w.flag}, &stdout, &errb)
		if code != 0 {
			t.Fatalf("-weights %s: exit %d: %s", w.flag, code, errb.String())
		}
		if !strings.Contains(stdout.String(), `"weights":"`+w.want+`"`) {
			t.Errorf("-weights %s: JSON %q lacks weights %q", w.flag, stdout.String(), w.want)
		}
	}
	for _, args := range [][]string{{"bench", "-grid", "1,4"}, {"bench", "-grid", "1,x,4"}, {"bench", "-runs", "0"}, {"bench", "-weights", "fp32"}} {
		if code, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestPrompt(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"prompt", "-image", "../../testdata/imageproc/inputs/grad_400x300.png", "Describe <image> please."}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "Describe <|vision_start|>" + strings.Repeat("<|image_pad|>", 108) + "<|vision_end|> please.\n"
	if stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if code, stderr := runCmd(t, "prompt", "Two <image> <image>"); code != 1 || !strings.Contains(stderr, "image") {
		t.Errorf("marks without images: exit %d, %q", code, stderr)
	}
}

func TestExplainSeed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"explain", "-model", "qwen3-vl-4b", "-size", "400x300"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"400×300 → 384×288", "(1, 18, 24): 432 patches", "→ 108 tokens", "pooler_output [108, 2560]", "last_hidden_state [432, 1024]", "304.2 GFLOP"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("explain output lacks %q:\n%s", want, stdout.String())
		}
	}
	// Below min_pixels: scaled up; from a file, via the checkpoint folder's config.
	stdout.Reset()
	if code := run(context.Background(), []string{"explain", "-model", "../../testdata/golden/tiny-checkpoint", "../../testdata/imageproc/inputs/tiny_7x5.png"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "< min_pixels") {
		t.Errorf("no min_pixels explanation:\n%s", stdout.String())
	}
	if code, _ := runCmd(t, "explain", "-size", "400x300", "x.png"); code != 2 {
		t.Errorf("both inputs: exit %d", code)
	}
}

// TestExplainModules: explain's per-module rows, from the tower's parameter table, for the seed
// image on the 4B tower; the position table is the model's own (48×48 for 2304 embeddings, 6×6
// for the tiny checkpoint's 36), not always 48×48.
func TestExplainModules(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rows map[string][]string // module column → the parameters, GFLOP and activations columns
	}{
		{[]string{"-model", "qwen3-vl-4b", "-size", "400x300"}, map[string][]string{
			"patch_embed (Conv3d as matmul)":           {"1.6M", "1.36", "1.7 MiB"},
			"pos_embed (48×48 table, bilinear)":        {"2.4M", "0.00", "1.7 MiB"},
			"blocks × 24 (attention, MLP)":             {"302.3M", "279.27", "13.5 MiB"},
			"merger (LayerNorm D, 2×2 merge, MLP)":     {"27.3M", "5.89", "4.4 MiB"},
			"deepstack_merger_list.0 (after block 5)":  {"27.3M", "5.89", "4.4 MiB"},
			"deepstack_merger_list.2 (after block 17)": {"27.3M", "5.89", "4.4 MiB"},
			"Total:": {"415.3M parameters", "304.2 GFLOP (attention 18.3,"},
		}},
		{[]string{"-model", "../../testdata/golden/tiny-checkpoint", "-size", "64x64"}, map[string][]string{
			"pos_embed (6×6 table, bilinear)": {"2.3K"},
		}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"explain"}, tc.args...), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr.String())
		}
		for module, cols := range tc.rows {
			var line string
			for l := range strings.Lines(stdout.String()) {
				if strings.HasPrefix(strings.TrimSpace(l), module) {
					line = l
				}
			}
			if line == "" {
				t.Errorf("%v: no row %q:\n%s", tc.args, module, stdout.String())
				continue
			}
			for _, c := range cols {
				if !strings.Contains(line, " "+c) {
					t.Errorf("%v: row %q lacks %q: %s", tc.args, module, c, line)
				}
			}
		}
	}
}

func TestServeUsage(t *testing.T) {
	if code, _ := runCmd(t, "serve", "-bogus"); code != 2 {
		t.Errorf("serve -bogus: exit %d, want 2", code)
	}
	if code, stderr := runCmd(t, "serve", "-model", ""); code == 0 {
		t.Errorf("serve without a model succeeded: %s", stderr)
	}
}
