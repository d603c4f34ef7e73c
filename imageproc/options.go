package imageproc

import (
	"fmt"
	"math"
)

// Options are the preprocessing parameters. Build them with DefaultOptions
// or ReadPreprocessorConfig; the zero value is not usable.
type Options struct {
	// MinPixels and MaxPixels bound the resized area (preprocessor_config
	// "size": shortest_edge / longest_edge, or "min_pixels" / "max_pixels").
	MinPixels, MaxPixels int
	// PatchSize is the side of a vision patch, MergeSize the side of the
	// block of patches merged into one token, TemporalPatchSize the number
	// of frames per patch (an image is repeated that many times).
	PatchSize, MergeSize, TemporalPatchSize int
	// Mean and Std normalise each channel after rescaling.
	Mean, Std [3]float32
	// RescaleFactor maps 8-bit levels to [0, 1]. It is float64 because the
	// reference folds it into mean and std as 1.0/rescale_factor in double
	// precision before rounding to float32.
	RescaleFactor float64
	// Resampler picks which reference backend Resize reproduces exactly.
	Resampler Resampler
	// MaxDecodePixels refuses, before any pixel memory is allocated, an
	// image whose header declares more pixels than this (decompression
	// bombs). The default, 178956970, is the point where Pillow raises
	// DecompressionBombError (2 × Image.MAX_IMAGE_PIXELS).
	MaxDecodePixels int64
	// MaxFileBytes refuses an input file (or reader) of which more than
	// this many bytes would be read (ErrTooLarge); 0 means
	// DefaultMaxFileBytes. Only the bytes the decoder needs are read, so
	// data after the end of an image does not count.
	MaxFileBytes int64
}

// DefaultMaxDecodePixels is the default for Options.MaxDecodePixels.
const DefaultMaxDecodePixels = 2 * 89478485

// DefaultOptions returns the values of the released Qwen3-VL checkpoints'
// preprocessor_config.json: pixel budget [65536, 16777216], patch 16,
// merge 2, temporal patch 2, mean = std = 0.5, rescale 1/255, and the
// torchvision resampler of the reference's default backend.
func DefaultOptions() Options {
	return Options{
		MinPixels:         65536,
		MaxPixels:         16777216,
		PatchSize:         16,
		MergeSize:         2,
		TemporalPatchSize: 2,
		Mean:              [3]float32{0.5, 0.5, 0.5},
		Std:               [3]float32{0.5, 0.5, 0.5},
		RescaleFactor:     1.0 / 255,
		Resampler:         ResampleTorchvision,
		MaxDecodePixels:   DefaultMaxDecodePixels,
		MaxFileBytes:      DefaultMaxFileBytes,
	}
}

// Factor is the side every resized dimension is a multiple of
// (PatchSize·MergeSize).
func (o Options) Factor() int { return o.PatchSize * o.MergeSize }

// PatchDim is the length of one row of Image.Pixels:
// 3·TemporalPatchSize·PatchSize².
func (o Options) PatchDim() int { return 3 * o.TemporalPatchSize * o.PatchSize * o.PatchSize }

// Validate reports the first unusable field.
func (o Options) Validate() error {
	switch {
	case o.PatchSize <= 0 || o.PatchSize > 1024:
		return fmt.Errorf("imageproc: options: patch_size %d must be in [1, 1024]", o.PatchSize)
	case o.MergeSize <= 0 || o.MergeSize > 64:
		return fmt.Errorf("imageproc: options: merge_size %d must be in [1, 64]", o.MergeSize)
	case o.TemporalPatchSize <= 0 || o.TemporalPatchSize > 64:
		return fmt.Errorf("imageproc: options: temporal_patch_size %d must be in [1, 64]", o.TemporalPatchSize)
	case o.MinPixels <= 0:
		return fmt.Errorf("imageproc: options: min_pixels (size.shortest_edge) %d must be positive", o.MinPixels)
	case o.MaxPixels < o.MinPixels:
		return fmt.Errorf("imageproc: options: max_pixels (size.longest_edge) %d is below min_pixels %d", o.MaxPixels, o.MinPixels)
	case !(o.RescaleFactor > 0) || math.IsInf(o.RescaleFactor, 0):
		return fmt.Errorf("imageproc: options: rescale_factor %v must be positive and finite", o.RescaleFactor)
	case o.Resampler != ResampleTorchvision && o.Resampler != ResamplePillow:
		return fmt.Errorf("imageproc: options: unknown resampler %v", o.Resampler)
	case o.MaxDecodePixels <= 0:
		return fmt.Errorf("imageproc: options: MaxDecodePixels %d must be positive", o.MaxDecodePixels)
	case o.MaxFileBytes < 0:
		return fmt.Errorf("imageproc: options: MaxFileBytes %d must not be negative (0: the default)", o.MaxFileBytes)
	}
	for c := range 3 {
		if math.IsNaN(float64(o.Mean[c])) || math.IsInf(float64(o.Mean[c]), 0) {
			return fmt.Errorf("imageproc: options: image_mean[%d] = %v is not finite", c, o.Mean[c])
		}
		if !(o.Std[c] != 0) || math.IsInf(float64(o.Std[c]), 0) {
			return fmt.Errorf("imageproc: options: image_std[%d] = %v must be finite and non-zero", c, o.Std[c])
		}
	}
	return nil
}

// ReadPreprocessorConfig reads a Hugging Face preprocessor_config.json and
// returns the options the pinned reference builds from it: fields the file
// omits take the class defaults of Qwen2VLImageProcessor (see
// ClassDefaultOptions), exactly as AutoImageProcessor.from_pretrained does,
// so a Qwen3-VL checkpoint's file yields DefaultOptions. As in the
// reference's __init__, top-level "min_pixels" / "max_pixels" win over
// "size": {"shortest_edge", "longest_edge"}. Settings this package does not
// implement (do_resize, do_rescale, do_normalize or do_convert_rgb false; a
// resample other than 3 = bicubic; size.min_pixels / size.max_pixels, which
// the reference itself rejects) are errors, as is any field of the wrong
// type or out of range; each error names the field.
func ReadPreprocessorConfig(path string) (Options, error) {
	data, err := readConfig(path)
	if err != nil {
		return Options{}, err
	}
	o, err := parsePreprocessorConfig(data)
	if err != nil {
		return Options{}, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	return o, nil
}

// ClassDefaultOptions returns the class defaults of the reference's
// Qwen2VLImageProcessor (Qwen2-VL values: budget [3136, 1003520], patch 14,
// CLIP mean and std), which ReadPreprocessorConfig uses for fields a
// preprocessor_config.json leaves out. They are not Qwen3-VL's values.
func ClassDefaultOptions() Options {
	o := DefaultOptions()
	o.MinPixels, o.MaxPixels = 56*56, 28*28*1280
	o.PatchSize = 14
	o.Mean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	o.Std = [3]float32{0.26862954, 0.26130258, 0.27577711}
	return o
}
