package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// TestEncodeCheckpointGolden runs the command on the bf16, sharded checkpoint folder written by
// tools/reference/make_goldens.py and compares every output with the reference's.
func TestEncodeCheckpointGolden(t *testing.T) {
	const dir = "../../testdata/golden"
	out := filepath.Join(t.TempDir(), "out.safetensors")
	code, stderr := runCmd(t, "encode", "-model", filepath.Join(dir, "tiny-checkpoint"),
		"-pixels", filepath.Join(dir, "tiny-checkpoint.pixels.safetensors"), "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ref, err := safetensors.Open(filepath.Join(dir, "tiny-checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, info := range ref.Header().Tensors {
		if info.DType == safetensors.I64 {
			g, err1 := got.Int64(info.Name)
			w, err2 := ref.Int64(info.Name)
			if err1 != nil || err2 != nil || len(g) != len(w) {
				t.Fatalf("%s: %v %v", info.Name, err1, err2)
			}
			for i := range w {
				if g[i] != w[i] {
					t.Errorf("%s[%d] = %d, want %d", info.Name, i, g[i], w[i])
				}
			}
			continue
		}
		g, err := got.Float32(info.Name)
		if err != nil {
			t.Fatalf("%s: %v", info.Name, err)
		}
		w, _ := ref.Float32(info.Name)
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", info.Name, len(g), len(w))
		}
		var maxAbs, maxRef float64
		for i := range w {
			maxAbs = math.Max(maxAbs, math.Abs(float64(g[i]-w[i])))
			maxRef = math.Max(maxRef, math.Abs(float64(w[i])))
		}
		if rel := maxAbs / maxRef; !(rel <= 1e-5) {
			t.Errorf("%s: max|Δ|/max|ref| = %.3g, target ≤ 1e-5", info.Name, rel)
		}
	}
}
