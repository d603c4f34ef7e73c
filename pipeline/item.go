package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Input is one item named on a command line or in a job: an image or a video file.
type Input struct {
	// Path is the file (or, for a video, a folder of frames).
	Path string
	// Video makes the file a video item (sampled and resized as Qwen3VLVideoProcessor does).
	Video bool
}

// Item is one preprocessed image or video: the tower's input for it, and what the outputs
// report about it.
type Item struct {
	// Name identifies the item in messages and output metadata (its file, or "image 3").
	Name string
	// File is the input file the item was read from; empty when it came from elsewhere (a
	// pixels file, an upload).
	File  string
	Video bool
	// Pixels is the [Grid.Patches(), PatchDim] row-major matrix of normalised patches (the
	// reference's pixel_values, or pixel_values_videos). A Batch copies it; Features hold none.
	Pixels []float32
	Grid   vision.Grid
	// Timestamps are a video's temporal-group times in seconds (len Grid.T); nil for an image.
	Timestamps []float64
	// Width and Height are the decoded size, ResizedWidth and ResizedHeight the size it was
	// resized to.
	Width, Height, ResizedWidth, ResizedHeight int
	// Warnings are notes for the user (a video of unknown frame rate, say).
	Warnings []string
}

// Prepare decodes and preprocesses one input with the checkpoint's options. Errors name the
// file.
func (c *Checkpoint) Prepare(ctx context.Context, in Input) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	if in.Video {
		v, err := imageproc.PreprocessVideoFile(ctx, in.Path, c.Video)
		if err != nil {
			return Item{}, inputError(in.Path, err)
		}
		it := VideoItem(in.Path, v)
		it.File = in.Path
		return it, nil
	}
	img, err := imageproc.PreprocessFile(ctx, in.Path, c.Image)
	if err != nil {
		return Item{}, inputError(in.Path, err)
	}
	it := ImageItem(in.Path, img)
	it.File = in.Path
	return it, nil
}

// PrepareImage decodes and preprocesses an image already read into memory, as Prepare does
// the file (the same pixels, bit for bit): for a caller that needs the bytes too (a batch job
// hashes them). name is the file, for errors and the item's Name and File.
func (c *Checkpoint) PrepareImage(ctx context.Context, name string, data []byte) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	rgb, err := imageproc.Decode(ctx, bytes.NewReader(data), name, c.Image)
	if err != nil {
		return Item{}, inputError(name, err)
	}
	img, err := imageproc.Preprocess(rgb, c.Image)
	if err != nil {
		return Item{}, inputError(name, fmt.Errorf("%w (file %s)", err, name))
	}
	it := ImageItem(name, img)
	it.File = name
	return it, nil
}

// inputError words an input's error once: "pipeline: FILE: what is wrong".
func inputError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pipeline: %s: no such file: %w", path, err)
	}
	return reword(err, "pipeline: ", "imageproc: ")
}

// ImageItem is the Item of a preprocessed image.
func ImageItem(name string, img *imageproc.Image) Item {
	return Item{
		Name: name, Pixels: img.Pixels, Grid: vision.Grid(img.Grid),
		Width: img.Width, Height: img.Height, ResizedWidth: img.ResizedWidth, ResizedHeight: img.ResizedHeight,
	}
}

// VideoItem is the Item of a preprocessed video.
func VideoItem(name string, v *imageproc.VideoResult) Item {
	return Item{
		Name: name, Video: true, Pixels: v.Pixels, Grid: vision.Grid(v.Grid),
		Timestamps: v.Timestamps, Width: v.Width, Height: v.Height,
		ResizedWidth: v.ResizedWidth, ResizedHeight: v.ResizedHeight, Warnings: v.Warnings,
	}
}

// Check tells, without decoding pixels and before any model is resolved, whether Prepare can
// take in: the file exists and is a regular file (or, for a video, a folder of frames), and an
// image's header is of a known format, within the decode limit and of an aspect ratio the
// resize accepts (imageproc.DecodeHeaderFile). A video's frames are checked when it is
// prepared.
func Check(ctx context.Context, in Input, o Overrides) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(in.Path)
	if err != nil {
		return inputError(in.Path, err)
	}
	switch {
	case in.Video && fi.IsDir():
		return nil
	case fi.IsDir():
		return fmt.Errorf("pipeline: %s is a folder, not an image file", in.Path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("pipeline: %s is not a regular file (%s)", in.Path, fi.Mode().Type())
	case in.Video:
		return nil
	}
	opts := imageproc.DefaultOptions()
	if o.MaxDecodePixels > 0 {
		opts.MaxDecodePixels = o.MaxDecodePixels
	}
	if _, err := imageproc.DecodeHeaderFile(ctx, in.Path, opts); err != nil {
		return inputError(in.Path, err)
	}
	return nil
}
