package pipeline_test

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/pipeline"
)

// A model spec in, the output tensors out: here synthetic weights of the tiny test shape and one
// of the repository's test images.
func Example() {
	ctx := context.Background()
	p, err := pipeline.Open(ctx, "random:tiny", pipeline.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	item, err := p.Prepare(ctx, pipeline.Input{Path: "../testdata/imageproc/inputs/grad_400x300.png"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var b pipeline.Batch
	b.Add(item)
	res, err := p.Encode(ctx, &b)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := res.Items(0, 1)
	fmt.Println("grid", f.Items[0].Grid, "tokens", f.Pooler.Rows, "×", f.Pooler.Cols)
	for _, t := range f.Tensors() {
		fmt.Println(t.Name, t.Shape)
	}
	// Output:
	// grid (1, 18, 24) tokens 108 × 96
	// pooler_output [108 96]
	// deepstack_features.0 [108 96]
	// deepstack_features.1 [108 96]
	// last_hidden_state [432 64]
	// grid_thw [1 3]
}

// ParseSpec tells the forms of a model spec apart without touching the network.
func ExampleParseSpec() {
	for _, s := range []string{"random:qwen3-vl-4b@7", "Qwen/Qwen3-VL-2B-Instruct@main", "./checkpoints/my-model"} {
		spec, err := pipeline.ParseSpec(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(spec.Kind, spec)
	}
	// Output:
	// random random:qwen3-vl-4b@7
	// hub Qwen/Qwen3-VL-2B-Instruct@main
	// folder ./checkpoints/my-model
}
