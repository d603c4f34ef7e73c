package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", "explain [-model DIR|FILE.gguf|PRESET|random:PRESET] [-png OUT.png] [-size WxH] [IMAGE]", stderr)
	model := fs.String("model", "qwen3-vl-2b", "a checkpoint folder (only config.json and preprocessor_config.json are read), a llama.cpp mmproj .gguf file or ollama:NAME[:TAG] (only its metadata is read), or a preset name ("+strings.Join(vision.PresetNames(), ", ")+")")
	size := fs.String("size", "", "explain an image of this size (WxH) instead of a file")
	pngPath := fs.String("png", "", "also draw the explanation into this PNG file: the image as resized (grey with -size), its patch grid, merge windows and token numbers, and the dataflow beside it")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (fs.NArg() == 1) == (*size != "") || fs.NArg() > 1 {
		return usagef("give one image file or -size WxH")
	}
	if *pngPath != "" {
		if err := checkPNGPath("-png", *pngPath, fs.Args()); err != nil {
			return err
		}
	}
	ckpt, name, err := explainCheckpoint(ctx, *model, &imf, stderr)
	if err != nil {
		return err
	}
	cfg, opts := ckpt.Config, ckpt.Image
	var w, h int
	var rgb *imageproc.RGB
	source := ""
	if *size != "" {
		if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w < 1 || h < 1 {
			return usagef("-size %q: want WxH, e.g. 400x300", *size)
		}
		source = fmt.Sprintf("an image of %d×%d", w, h)
	} else {
		img, err := imageproc.DecodeFile(ctx, fs.Arg(0), opts)
		if err != nil {
			return err
		}
		w, h, rgb = img.Width, img.Height, img
		source = fmt.Sprintf("%s (%d×%d after EXIF orientation)", fs.Arg(0), w, h)
	}
	e, err := pipeline.Explain(cfg, name, opts, source, w, h)
	if err != nil {
		return err
	}
	if err := e.WriteText(stdout); err != nil {
		return err
	}
	if *pngPath == "" {
		return nil
	}
	var resized image.Image
	if rgb != nil {
		r, err := imageproc.Resized(rgb, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		resized = r
	}
	return fsutil.WriteFile(*pngPath, func(out io.Writer) error { return picture.Explain(out, resized, e) })
}

// explainCheckpoint resolves explain's -model: a preset name (or random:PRESET), a checkpoint
// folder or a hub id, of which only the configuration is read.
func explainCheckpoint(ctx context.Context, model string, imf *imageFlags, stderr io.Writer) (*pipeline.Checkpoint, string, error) {
	ov, err := imf.overrides()
	if err != nil {
		return nil, "", err
	}
	spec, name := model, model
	if preset := strings.TrimPrefix(model, "random:"); slices.Contains(vision.PresetNames(), preset) {
		spec, name = "random:"+preset, "preset "+preset
	}
	s, err := parseSpec(spec)
	if err != nil {
		return nil, "", err
	}
	c, err := pipeline.Resolve(ctx, s, pipelineOptions(vision.Options{}, ov, io.Discard))
	return c, name, err
}

// checkPNGPath vets a PNG output path before any work: its folder exists, it is not a folder
// and not one of the inputs.
func checkPNGPath(flag, path string, inputs []string) error {
	parent := filepath.Dir(path)
	if fi, err := os.Stat(parent); err != nil {
		return usagef("%s %s: the folder %s does not exist", flag, path, parent)
	} else if !fi.IsDir() {
		return usagef("%s %s: %s is not a folder", flag, path, parent)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // a new file
	}
	if fi.IsDir() {
		return usagef("%s %s is a folder (want a PNG file)", flag, path)
	}
	for _, in := range inputs {
		if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
			return usagef("%s %s is the input %s: refusing to overwrite it", flag, path, in)
		}
	}
	return nil
}
