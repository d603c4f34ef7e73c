package imageproc_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// TestVideoEncodeGolden runs the whole video path on the frames of testdata/video/inputs/
// odd_frames (5 frames at 2 fps, padded to 6, grid (3, 2, 6)): LoadFrames, PreprocessVideo
// with the released config, then the tiny tower of testdata/golden with synthetic weights
// (seed 1), and compares with the Hugging Face Qwen3VLVisionModel run on the reference
// processor's pixel_values_videos (tools/reference/video_goldens.py): rel ≤ 1e-5.
func TestVideoEncodeGolden(t *testing.T) {
	const dir = "../testdata/video"
	opts, err := imageproc.ReadVideoPreprocessorConfig(filepath.Join(dir, "config_ckpt", "video_preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := imageproc.LoadFrames(context.Background(), filepath.Join(dir, "inputs", "odd_frames"), 2, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := imageproc.PreprocessVideo(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open(filepath.Join(dir, "encode", "odd_frames-tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	g, err := ref.Int64("grid_thw")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 3 || int(g[0]) != res.Grid.T || int(g[1]) != res.Grid.H || int(g[2]) != res.Grid.W {
		t.Fatalf("grid %v, golden %v", res.Grid, g)
	}
	cfg, err := vision.ReadConfig(filepath.Join("..", "testdata", "golden", "configs", "tiny.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := vision.Random(cfg, 1, vision.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Encode(context.Background(), res.Pixels, []vision.Grid{vision.Grid(res.Grid)})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got vision.Matrix) {
		want, err := ref.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(got.Data) {
			t.Fatalf("%s: %d values, golden %d", name, len(got.Data), len(want))
		}
		var maxAbs, maxRef, dot, ng, nr float64
		for i := range want {
			a, b := float64(got.Data[i]), float64(want[i])
			maxAbs = math.Max(maxAbs, math.Abs(a-b))
			maxRef = math.Max(maxRef, math.Abs(b))
			dot += a * b
			ng += a * a
			nr += b * b
		}
		rel, cos := maxAbs/maxRef, dot/math.Sqrt(ng*nr)
		t.Logf("%-20s [%d %d] max|Δ| %.3g rel %.3g cos %.9f", name, got.Rows, got.Cols, maxAbs, rel, cos)
		if !(rel <= 1e-5) {
			t.Errorf("%s: rel %.3g > 1e-5", name, rel)
		}
	}
	check("pooler_output", out.Pooler)
	check("last_hidden_state", out.LastHidden)
	for k, d := range out.Deepstack {
		check("deepstack_features."+string(rune('0'+k)), d)
	}
}
