package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

func runPreprocess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preprocess", "preprocess [-model M] [-min-pixels N] [-max-pixels N] [-video V]... -o P.safetensors IMAGE...", stderr)
	model := fs.String("model", "", "checkpoint folder or hub id whose preprocessor_config.json / video_preprocessor_config.json to use (default: Qwen3-VL's values); no weights are read")
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
	ov, err := imf.overrides()
	if err != nil {
		return err
	}
	inputs, err := imf.collectInputs(fs.Args())
	if err != nil {
		return err
	}
	var paths []string
	for _, in := range inputs {
		paths = append(paths, in.Path)
	}
	if err := checkOutput("safetensors", *outPath, paths); err != nil {
		return err
	}
	if inputs, err = checkInputs(ctx, inputs, ov, false, stderr); err != nil {
		return err
	}
	ckpt, err := checkpointOrDefaults(ctx, *model, ov, stderr)
	if err != nil {
		return err
	}
	var items []pipeline.Item
	images, videos := 0, 0
	for _, in := range inputs {
		it, err := ckpt.Prepare(ctx, in)
		if err != nil {
			return err
		}
		for _, w := range it.Warnings {
			fmt.Fprintf(stderr, "qwen3vl: %s: %s\n", it.Name, w)
		}
		kind := "image"
		if it.Video {
			kind = "video"
			videos++
		} else {
			images++
		}
		m2 := ckpt.Image.MergeSize * ckpt.Image.MergeSize
		fmt.Fprintf(stderr, "%s: %s, grid %v, %d patches, %d tokens\n", it.Name, kind, it.Grid, it.Grid.Patches(), it.Grid.Patches()/m2)
		items = append(items, it)
	}
	md := ckpt.Metadata(items)
	md["producer"] = "qwen3vl preprocess"
	if err := safetensors.WriteFile(*outPath, pipeline.PixelTensors(items, ckpt.Image.PatchDim()), md); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "qwen3vl: wrote %d images, %d videos to %s\n", images, videos, *outPath)
	return nil
}

// checkpointOrDefaults resolves an optional -model for the commands that need only its
// configuration (preprocess, prompt): a mistyped one is an error, none means Qwen3-VL's
// released preprocessing options.
func checkpointOrDefaults(ctx context.Context, model string, ov pipeline.Overrides, stderr io.Writer) (*pipeline.Checkpoint, error) {
	opts := pipelineOptions(vision.Options{}, ov, stderr)
	if model == "" {
		return pipeline.Defaults(opts)
	}
	spec, err := parseSpec(model)
	if err != nil {
		return nil, err
	}
	return pipeline.Resolve(ctx, spec, opts)
}
