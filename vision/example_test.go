package vision_test

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/vision"
)

// A tower with synthetic weights (the "tiny" preset) encodes one image of 4×6 patches: 24 rows
// through the blocks, merged 2×2 into 6 tokens of the text model's width, plus one DeepStack
// feature set per tap. Real use loads a checkpoint with vision.Load and gets pixel values from
// package imageproc.
func ExampleModel_Encode() {
	cfg, err := vision.Preset("tiny")
	if err != nil {
		panic(err)
	}
	m, err := vision.Random(cfg, 1, vision.Options{})
	if err != nil {
		panic(err)
	}
	grid := vision.Grid{T: 1, H: 4, W: 6}
	pixels := make([]float32, grid.Patches()*cfg.PatchDim())
	out, err := m.Encode(context.Background(), pixels, []vision.Grid{grid})
	if err != nil {
		panic(err)
	}
	fmt.Println("last hidden:", out.LastHidden.Rows, out.LastHidden.Cols)
	fmt.Println("tokens:", out.Pooler.Rows, out.Pooler.Cols)
	fmt.Println("deepstack sets:", len(out.Deepstack))
	fmt.Println("weights:", m.Weights())
	// Output:
	// last hidden: 24 64
	// tokens: 6 96
	// deepstack sets: 2
	// weights: f32
}

// WithProgress reports each finished transformer block of an Encode call.
func ExampleWithProgress() {
	cfg, _ := vision.Preset("tiny")
	m, _ := vision.Random(cfg, 1, vision.Options{Threads: 1})
	grid := vision.Grid{T: 1, H: 2, W: 2}
	ctx := vision.WithProgress(context.Background(), func(done, total int) {
		fmt.Printf("block %d/%d\n", done, total)
	})
	if _, err := m.Encode(ctx, make([]float32, grid.Patches()*cfg.PatchDim()), []vision.Grid{grid}); err != nil {
		panic(err)
	}
	// Output:
	// block 1/4
	// block 2/4
	// block 3/4
	// block 4/4
}

// The work of one encode: the seed image's grid on the 4B tower.
func ExampleFLOPs() {
	cfg, _ := vision.Preset("qwen3-vl-4b")
	fmt.Printf("%.1f GFLOP\n", float64(vision.FLOPs(cfg, []vision.Grid{{T: 1, H: 18, W: 24}}))/1e9)
	// Output:
	// 304.2 GFLOP
}

// WithTrace shows every named intermediate tensor of an Encode call; here the first block's.
func ExampleWithTrace() {
	cfg, _ := vision.Preset("tiny")
	m, _ := vision.Random(cfg, 1, vision.Options{Threads: 1})
	grid := vision.Grid{T: 1, H: 2, W: 2}
	ctx := vision.WithTrace(context.Background(), func(t vision.Trace) {
		if t.Layer <= 0 {
			fmt.Printf("%2d %-11s [%d, %d]\n", t.Layer, t.Name, t.Matrix.Rows, t.Matrix.Cols)
		}
	})
	if _, err := m.Encode(ctx, make([]float32, grid.Patches()*cfg.PatchDim()), []vision.Grid{grid}); err != nil {
		panic(err)
	}
	// Output:
	// -1 patch_embed [4, 64]
	// -1 pos_embed   [4, 64]
	//  0 ln1         [4, 64]
	//  0 qkv         [4, 192]
	//  0 attn        [4, 64]
	//  0 attn_out    [4, 64]
	//  0 ln2         [4, 64]
	//  0 mlp         [4, 200]
	//  0 layer_out   [4, 64]
	// -1 deepstack.0 [1, 96]
	// -1 deepstack.1 [1, 96]
	// -1 merger      [1, 96]
}
