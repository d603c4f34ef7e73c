package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// imageFlags are the preprocessing flags shared by encode, preprocess, prompt and explain.
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
	files, err := expandInputs(args)
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

// expandInputs turns the command line's inputs (files, folders, globs) into a list of files in
// order: a folder contributes its image files sorted by name (symbolic links to image files
// included), a glob its matches sorted.
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
			return nil, inputError(a, err)
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, inputError(a, err)
		}
		n := len(files)
		for _, e := range entries {
			if !isImageName(e.Name()) {
				continue
			}
			p := filepath.Join(a, e.Name())
			if e.Type()&fs.ModeSymlink != 0 {
				// A link counts as what it points to; a dangling one is an error, not a skip.
				ti, err := os.Stat(p)
				if err != nil {
					return nil, fmt.Errorf("%s: a symbolic link to nothing readable: %v", p, errors.Unwrap(err))
				}
				if !ti.Mode().IsRegular() {
					continue
				}
			} else if !e.Type().IsRegular() {
				continue
			}
			files = append(files, p)
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
