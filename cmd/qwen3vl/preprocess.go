package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

func runPreprocess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preprocess", "preprocess [-model DIR] [-min-pixels N] [-max-pixels N] [-video V]... -o P.safetensors IMAGE...", stderr)
	model := fs.String("model", "", "checkpoint folder whose preprocessor_config.json / video_preprocessor_config.json to use (default: Qwen3-VL's values)")
	outPath := fs.String("o", "", "output safetensors file with the Hugging Face processor's names: pixel_values (float32 [N, 1536]) and image_grid_thw (int64 [images, 3]); for videos pixel_values_videos, video_grid_thw and video_timestamps.K (float64, seconds per temporal group)")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outPath == "" {
		return usagef("-o is required")
	}
	if fs.NArg() == 0 && len(imf.videos) == 0 {
		return usagef("no images or videos given")
	}
	opts, err := imf.options(*model)
	if err != nil {
		return err
	}
	vopts, err := imf.videoOptions(*model)
	if err != nil {
		return err
	}
	items, err := imf.collectInputs(fs.Args())
	if err != nil {
		return err
	}
	type group struct {
		pixels []float32
		grids  []vision.Grid
	}
	var images, videos group
	var tensors []safetensors.Tensor
	for _, it := range items {
		px, g, ts, err := preprocessItem(ctx, it, opts, vopts, stderr)
		if err != nil {
			return err
		}
		kind, dst := "image", &images
		if it.video {
			kind, dst = "video", &videos
			tensors = append(tensors, f64Tensor(fmt.Sprintf("video_timestamps.%d", len(videos.grids)), ts))
		}
		dst.pixels = append(dst.pixels, px...)
		dst.grids = append(dst.grids, g)
		fmt.Fprintf(stderr, "%s: %s, grid %v, %d patches, %d tokens\n", it.path, kind, g, g.Patches(), g.Patches()/(opts.MergeSize*opts.MergeSize))
	}
	pd := opts.PatchDim()
	var out []safetensors.Tensor
	if len(images.grids) > 0 {
		out = append(out, safetensors.F32Tensor("pixel_values", []int{len(images.pixels) / pd, pd}, images.pixels), gridTensor("image_grid_thw", images.grids))
	}
	if len(videos.grids) > 0 {
		out = append(out, safetensors.F32Tensor("pixel_values_videos", []int{len(videos.pixels) / pd, pd}, videos.pixels), gridTensor("video_grid_thw", videos.grids))
	}
	out = append(out, tensors...)
	if err := safetensors.WriteFile(*outPath, out, map[string]string{"format": "pt", "producer": "qwen3vl preprocess"}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "qwen3vl: wrote %d images, %d videos to %s\n", len(images.grids), len(videos.grids), *outPath)
	return nil
}
