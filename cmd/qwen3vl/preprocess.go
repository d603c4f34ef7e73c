package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

func runPreprocess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preprocess", "preprocess [-model DIR] [-min-pixels N] [-max-pixels N] -o P.safetensors IMAGE...", stderr)
	model := fs.String("model", "", "checkpoint folder whose preprocessor_config.json to use (default: Qwen3-VL's values)")
	outPath := fs.String("o", "", "output safetensors file: pixel_values (float32 [N, 1536]) and grid_thw (int64 [items, 3]), as the Hugging Face processor returns them")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outPath == "" {
		return usagef("-o is required")
	}
	if fs.NArg() == 0 {
		return usagef("no images given")
	}
	opts, err := imf.options(*model)
	if err != nil {
		return err
	}
	files, err := expandInputs(fs.Args())
	if err != nil {
		return err
	}
	pixels, grids, images, err := preprocessFiles(files, opts)
	if err != nil {
		return err
	}
	g := make([]int64, 0, 3*len(grids))
	for _, x := range grids {
		g = append(g, int64(x.T), int64(x.H), int64(x.W))
	}
	rows := len(pixels) / opts.PatchDim()
	err = safetensors.WriteFile(*outPath, []safetensors.Tensor{
		safetensors.F32Tensor("pixel_values", []int{rows, opts.PatchDim()}, pixels),
		safetensors.I64Tensor("grid_thw", []int{len(grids), 3}, g),
	}, map[string]string{"format": "pt", "producer": "qwen3vl preprocess"})
	if err != nil {
		return err
	}
	for i, img := range images {
		fmt.Fprintf(stderr, "%s: %d×%d → %d×%d, grid %v, %d patches, %d tokens\n", files[i], img.Width, img.Height,
			img.ResizedWidth, img.ResizedHeight, grids[i], grids[i].Patches(), grids[i].Patches()/(opts.MergeSize*opts.MergeSize))
	}
	fmt.Fprintf(stderr, "qwen3vl: wrote %d items, %d patches to %s\n", len(grids), rows, *outPath)
	return nil
}
