package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// imageFlags are the preprocessing flags shared by encode, preprocess and prompt.
type imageFlags struct {
	minPixels, maxPixels int
	maxDecode            int64
	pil                  bool
	videos               stringList
	videoFPS, framesFPS  float64
}

func (f *imageFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.minPixels, "min-pixels", 0, "smallest resized area in pixels (0: the checkpoint's preprocessor_config.json, else 65536)")
	fs.IntVar(&f.maxPixels, "max-pixels", 0, "largest resized area in pixels (0: the checkpoint's preprocessor_config.json, else 16777216)")
	fs.Int64Var(&f.maxDecode, "max-decode-pixels", imageproc.DefaultMaxDecodePixels, "refuse images whose header declares more pixels than this (decompression bombs)")
	fs.BoolVar(&f.pil, "pil", false, "resize as the reference's PIL backend (use_fast=False) instead of its default torchvision backend")
	fs.Var(&f.videos, "video", "a video: a file ffmpeg can read, an animated GIF, or a folder of frames (repeatable; videos also come from inputs with a video extension)")
	fs.Float64Var(&f.videoFPS, "video-fps", 0, "frames sampled per second of video (0: the checkpoint's video_preprocessor_config.json, else 2)")
	fs.Float64Var(&f.framesFPS, "frames-fps", 0, "frame rate of a folder of frames given to -video (0: unknown; the reference then assumes 24)")
}

// videoOptions returns the video preprocessing options for a checkpoint folder (its video
// processor config when it has one, else Qwen3-VL's defaults), then the flags.
func (f *imageFlags) videoOptions(dir string) (imageproc.VideoOptions, error) {
	opts := imageproc.DefaultVideoOptions()
	if dir != "" && !strings.HasPrefix(dir, "random:") {
		o, _, err := imageproc.ReadVideoPreprocessorConfigDir(dir)
		switch {
		case err == nil:
			opts = o
		case !errors.Is(err, fs.ErrNotExist):
			return opts, err
		}
	}
	if f.videoFPS < 0 || f.framesFPS < 0 {
		return opts, usagef("-video-fps and -frames-fps must be ≥ 0")
	}
	if f.videoFPS > 0 {
		opts.FPS = f.videoFPS
	}
	opts.FramesFPS = f.framesFPS
	opts.MaxDecodePixels = f.maxDecode
	if f.pil {
		opts.Resampler = imageproc.ResamplePillow
	}
	return opts, opts.Validate()
}

// input is one item of a command line: an image or a video.
type input struct {
	path  string
	video bool
}

// videoExts are the file extensions taken as videos among positional inputs (an animated GIF
// is an image, its first frame, unless given with -video).
var videoExts = []string{".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp"}

// collectInputs returns the items of a command line in order: positional inputs (files,
// folders of images, globs; a video extension makes a file a video), then -video ones.
func (f *imageFlags) collectInputs(args []string) ([]input, error) {
	files, err := expandInputs(args)
	if err != nil {
		return nil, err
	}
	var items []input
	for _, p := range files {
		items = append(items, input{p, slices.Contains(videoExts, strings.ToLower(filepath.Ext(p)))})
	}
	for _, v := range f.videos {
		items = append(items, input{v, true})
	}
	return items, nil
}

// options returns the preprocessing options for a -model value: the checkpoint folder's
// preprocessor_config.json when it has one, else Qwen3-VL's defaults, then the flags.
func (f *imageFlags) options(model string) (imageproc.Options, error) {
	opts := imageproc.DefaultOptions()
	if model != "" && !strings.HasPrefix(model, "random:") {
		p := filepath.Join(model, "preprocessor_config.json")
		if _, err := os.Stat(p); err == nil {
			o, err := imageproc.ReadPreprocessorConfig(p)
			if err != nil {
				return opts, err
			}
			opts = o
		}
	}
	if f.minPixels < 0 || f.maxPixels < 0 {
		return opts, usagef("-min-pixels and -max-pixels must be ≥ 0")
	}
	if f.minPixels > 0 {
		opts.MinPixels = f.minPixels
	}
	if f.maxPixels > 0 {
		opts.MaxPixels = f.maxPixels
	}
	if opts.MinPixels > opts.MaxPixels {
		return opts, usagef("min pixels %d is larger than max pixels %d", opts.MinPixels, opts.MaxPixels)
	}
	opts.MaxDecodePixels = f.maxDecode
	if f.pil {
		opts.Resampler = imageproc.ResamplePillow
	}
	return opts, opts.Validate()
}

// expandInputs turns the command line's inputs (files, folders, globs) into a list of files in
// order: a folder contributes its image files sorted by name, a glob its matches sorted.
func expandInputs(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		if strings.ContainsAny(a, "*?[") {
			matches, err := filepath.Glob(a)
			if err != nil {
				return nil, usagef("bad pattern %q: %v", a, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("%s: no file matches", a)
			}
			files = append(files, matches...)
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		n := len(files)
		for _, e := range entries {
			if e.Type().IsRegular() && isImageName(e.Name()) {
				files = append(files, filepath.Join(a, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("%s: no image files in the folder", a)
		}
	}
	return files, nil
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

// preprocessFiles preprocesses each file as one item, in order, and concatenates their pixel
// rows as the reference processor does for a batch of images.
func preprocessFiles(ctx context.Context, files []string, opts imageproc.Options) ([]float32, []vision.Grid, []*imageproc.Image, error) {
	var pixels []float32
	var grids []vision.Grid
	var images []*imageproc.Image
	for _, f := range files {
		img, err := imageproc.PreprocessFile(ctx, f, opts)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil, nil, fmt.Errorf("%s: no such file", f)
			}
			return nil, nil, nil, err
		}
		pixels = append(pixels, img.Pixels...)
		grids = append(grids, vision.Grid(img.Grid))
		images = append(images, img)
	}
	return pixels, grids, images, nil
}
