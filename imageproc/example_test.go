package imageproc_test

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/imageproc"
)

func ExamplePreprocessFile() {
	opts := imageproc.DefaultOptions() // Qwen3-VL: patch 16, merge 2, budget [65536, 16777216]
	img, err := imageproc.PreprocessFile(context.Background(), "../testdata/imageproc/inputs/grad_400x300.png", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	patches := img.Grid.Patches()
	fmt.Printf("%dx%d resized to %dx%d\n", img.Width, img.Height, img.ResizedWidth, img.ResizedHeight)
	fmt.Printf("grid %v: %d patches of %d values, %d tokens\n",
		img.Grid, patches, len(img.Pixels)/patches, patches/(opts.MergeSize*opts.MergeSize))
	// Output:
	// 400x300 resized to 384x288
	// grid (1, 18, 24): 432 patches of 1536 values, 108 tokens
}

func ExampleSmartResize() {
	h, w, err := imageproc.SmartResize(3000, 4000, 32, 65536, 16777216)
	fmt.Println(h, w, err)
	_, _, err = imageproc.SmartResize(2, 402, 32, 65536, 16777216)
	fmt.Println(err)
	// Output:
	// 3008 4000 <nil>
	// imageproc: image 402x2 (width x height): absolute aspect ratio must be smaller than 200, got 201
}
