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
	"github.com/qwen3vl/qwen3vl/job"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// imageFlags are the preprocessing flags shared by encode, preprocess, prompt and explain.
type imageFlags struct {
	minPixels, maxPixels int
	maxDecode            int64
	pil                  bool
	videos               stringList
	videoFPS, framesFPS  float64
	list                 string // -list, registered by encode
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

// overrides returns the flags as the pipeline's overrides, checked: a value wrong whatever the
// checkpoint is a usage error.
func (f *imageFlags) overrides() (pipeline.Overrides, error) {
	o := pipeline.Overrides{
		MinPixels: f.minPixels, MaxPixels: f.maxPixels, MaxDecodePixels: f.maxDecode,
		PIL: f.pil, VideoFPS: f.videoFPS, FramesFPS: f.framesFPS,
	}
	if f.maxDecode <= 0 {
		return o, usagef("-max-decode-pixels %d: must be positive", f.maxDecode)
	}
	if err := o.Validate(); err != nil {
		return o, usageError{flagNames.Replace(describe(err))}
	}
	return o, nil
}

// flagNames names the pipeline's settings as the command's flags in its messages.
var flagNames = strings.NewReplacer("min pixels", "-min-pixels", "max pixels", "-max-pixels", "video fps", "-video-fps", "frames fps", "-frames-fps", "max decode pixels", "-max-decode-pixels")

// videoExts are the file extensions taken as videos among positional inputs (an animated GIF
// is an image, its first frame, unless given with -video).
var videoExts = []string{".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp"}

// collectInputs returns the items of a command line in order: positional inputs (files,
// folders of images, globs; a video extension makes a file a video), then -video ones.
func (f *imageFlags) collectInputs(args []string) ([]pipeline.Input, error) {
	files, err := expandInputs(args, f.list)
	if err != nil {
		return nil, err
	}
	var items []pipeline.Input
	for _, p := range files {
		items = append(items, pipeline.Input{Path: p, Video: slices.Contains(videoExts, strings.ToLower(filepath.Ext(p)))})
	}
	for _, v := range f.videos {
		if _, err := os.Stat(v); err != nil {
			return nil, inputError(v, err)
		}
		items = append(items, pipeline.Input{Path: v, Video: true})
	}
	return items, nil
}

// inputError words a missing or unreadable input once.
func inputError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file or folder", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", path, pe.Err)
	}
	return err
}

// expandInputs turns the command line's inputs (files, folders, globs) and the lines of the
// list file (if any; "-" is stdin) into a list of files in order, as a batch job takes them
// (job.Source): a folder contributes its image files, recursively, in lexical order (symbolic
// links to image files included; a dangling one is an error), a glob its matches sorted.
func expandInputs(args []string, list string) ([]string, error) {
	var files []string
	err := job.Source{Args: args, List: list, Stdin: os.Stdin}.Walk(context.Background(), func(in job.Input) error {
		if in.Err != nil {
			return in.Err
		}
		files = append(files, in.Path)
		return nil
	})
	return files, err
}
