package imageproc

import (
	"context"
	"fmt"
)

// Image is one preprocessed image: the vision tower's input for it.
type Image struct {
	// Pixels is the [Grid.Patches(), PatchDim] row-major matrix of
	// normalised patches (see Patchify); the reference's pixel_values.
	Pixels []float32
	// Grid is the patch grid, the reference's image_grid_thw row; T is 1
	// for an image. The tower emits Grid.H·Grid.W/MergeSize² tokens for it.
	Grid Grid
	// Width and Height are the decoded image's size (after the EXIF
	// orientation); ResizedWidth and ResizedHeight the size it was resized
	// to (Grid.W·PatchSize, Grid.H·PatchSize).
	Width, Height               int
	ResizedWidth, ResizedHeight int
}

// Preprocess resizes img to the size SmartResize picks under opts' pixel
// budget, with opts.Resampler, and patchifies it. img is not modified.
func Preprocess(img *RGB, opts Options) (*Image, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) < 3*img.Width*img.Height {
		return nil, fmt.Errorf("imageproc: preprocess: empty or malformed image")
	}
	resized, err := Resized(img, opts)
	if err != nil {
		return nil, err
	}
	w, h := resized.Width, resized.Height
	pix, grid, err := Patchify(resized, opts)
	if err != nil {
		return nil, err
	}
	return &Image{
		Pixels: pix, Grid: grid,
		Width: img.Width, Height: img.Height,
		ResizedWidth: w, ResizedHeight: h,
	}, nil
}

// PreprocessFile decodes the image file at path (see DecodeFile: a regular
// file, read up to opts.MaxFileBytes and only as far as the image goes)
// and preprocesses it. A cancelled ctx stops the reading, and the work
// after it. Errors name the file.
func PreprocessFile(ctx context.Context, path string, opts Options) (*Image, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	img, err := DecodeFile(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	out, err := Preprocess(img, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return out, nil
}

// checkResized refuses a resized size over opts.MaxDecodePixels, the largest image decoded at
// all: only a pixel budget far beyond the released ones (a lying min_pixels, say) gets there,
// and it would otherwise allocate without bound.
func checkResized(h, w int, opts Options) error {
	if px := int64(h) * int64(w); px > opts.MaxDecodePixels {
		return fmt.Errorf("resizes to %dx%d = %d pixels under the budget [%d, %d], over the limit of %d: %w",
			w, h, px, opts.MinPixels, opts.MaxPixels, opts.MaxDecodePixels, ErrTooLarge)
	}
	return nil
}
