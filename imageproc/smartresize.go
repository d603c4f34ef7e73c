package imageproc

import (
	"errors"
	"fmt"
	"math"
)

// ErrAspectRatio is returned (wrapped) by SmartResize, and so by Preprocess,
// when the longer side is more than 200 times the shorter one.
var ErrAspectRatio = errors.New("absolute aspect ratio must be smaller than 200")

// SmartResize returns the size an image of height×width is resized to: both
// sides multiples of factor, the area within [minPixels, maxPixels] (as far
// as the rounding allows) and the aspect ratio kept as closely as possible.
//
// It is a transcription of smart_resize in transformers 5.24.0
// (models/qwen2_vl/image_processing_qwen2_vl.py, lines 63–89), operation for
// operation in float64, so the result is identical:
//
//	error if max(h,w)/min(h,w) > 200
//	h' = round(h/factor)·factor, w' likewise            (round half to even)
//	if h'·w' > maxPixels: β = √(h·w/maxPixels)
//	    h' = max(factor, ⌊h/β/factor⌋·factor), w' likewise
//	elif h'·w' < minPixels: β = √(minPixels/(h·w))
//	    h' = ⌈h·β/factor⌉·factor, w' likewise
//
// The pinned reference has no lower bound on the input size: a 1×1 image is
// accepted and grows to the minimum budget (256×256 for the Qwen3-VL
// checkpoints). Unlike the reference, SmartResize reports an error instead
// of raising ZeroDivisionError or returning a zero side for non-positive
// arguments or budgets.
func SmartResize(height, width, factor, minPixels, maxPixels int) (h, w int, err error) {
	if height <= 0 || width <= 0 {
		return 0, 0, fmt.Errorf("imageproc: image size %dx%d (width x height) is empty", width, height)
	}
	if factor <= 0 {
		return 0, 0, fmt.Errorf("imageproc: resize factor %d must be positive", factor)
	}
	if minPixels <= 0 || maxPixels <= 0 {
		return 0, 0, fmt.Errorf("imageproc: pixel budget [%d, %d] must be positive", minPixels, maxPixels)
	}
	hi, lo := max(height, width), min(height, width)
	if ratio := float64(hi) / float64(lo); ratio > 200 {
		return 0, 0, fmt.Errorf("imageproc: image %dx%d (width x height): %w, got %v", width, height, ErrAspectRatio, ratio)
	}
	fh, fw, ff := float64(height), float64(width), float64(factor)
	h = int(math.RoundToEven(fh/ff)) * factor
	w = int(math.RoundToEven(fw/ff)) * factor
	switch {
	case h*w > maxPixels:
		// (height*width)/max_pixels: a Python int/int true division, correctly
		// rounded; both operands are below 2^53 so float64 division matches.
		beta := math.Sqrt(float64(height*width) / float64(maxPixels))
		h = max(factor, int(math.Floor(fh/beta/ff))*factor)
		w = max(factor, int(math.Floor(fw/beta/ff))*factor)
	case h*w < minPixels:
		beta := math.Sqrt(float64(minPixels) / float64(height*width))
		// float64() stops the compiler fusing the product into the division.
		h = int(math.Ceil(float64(fh*beta)/ff)) * factor
		w = int(math.Ceil(float64(fw*beta)/ff)) * factor
	}
	if h <= 0 || w <= 0 {
		// Only reachable with a budget below factor² (the reference would
		// go on and fail later in the resize).
		return 0, 0, fmt.Errorf("imageproc: image %dx%d (width x height) resizes to an empty %dx%d with budget [%d, %d]", width, height, w, h, minPixels, maxPixels)
	}
	return h, w, nil
}
