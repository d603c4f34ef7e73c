package imageproc

import (
	"context"
	"encoding/json"
	"errors"
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
	data, err := readFileBounded(context.Background(), path, maxConfigBytes)
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

func parsePreprocessorConfig(data []byte) (Options, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return Options{}, err
	}
	o := ClassDefaultOptions()
	intField := func(m map[string]json.RawMessage, prefix, key string, dst *int) error {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return nil
		}
		n, err := parseInt(v)
		if err != nil {
			return fmt.Errorf("field %s%s: %w", prefix, key, err)
		}
		*dst = n
		return nil
	}
	boolMustBeTrue := func(key string) error {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return nil
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("field %s: want a boolean, got %s", key, v)
		}
		if !b {
			return fmt.Errorf("field %s: false is not supported", key)
		}
		return nil
	}
	if v, ok := raw["size"]; ok && string(v) != "null" {
		var size map[string]json.RawMessage
		if err := json.Unmarshal(v, &size); err != nil {
			return Options{}, fmt.Errorf("field size: want an object, got %s", v)
		}
		// Older Qwen2-VL configs spelled the budget size.min_pixels/max_pixels;
		// transformers 5.24.0 fails on them (a comparison with None).
		for _, key := range []string{"min_pixels", "max_pixels"} {
			if _, ok := size[key]; ok {
				return Options{}, fmt.Errorf("field size.%s: not supported by the reference; use size.shortest_edge/longest_edge or a top-level %s", key, key)
			}
		}
		for _, f := range []struct {
			key string
			dst *int
		}{{"shortest_edge", &o.MinPixels}, {"longest_edge", &o.MaxPixels}} {
			if err := intField(size, "size.", f.key, f.dst); err != nil {
				return Options{}, err
			}
		}
		// The file's "size" replaces the class default as a whole.
		_, hasMin := size["shortest_edge"]
		_, hasMax := size["longest_edge"]
		_, topMin := raw["min_pixels"]
		_, topMax := raw["max_pixels"]
		if !(hasMin || topMin) || !(hasMax || topMax) {
			return Options{}, fmt.Errorf("field size: must contain both shortest_edge and longest_edge, got %s", v)
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{
		{"min_pixels", &o.MinPixels}, {"max_pixels", &o.MaxPixels},
		{"patch_size", &o.PatchSize}, {"merge_size", &o.MergeSize},
		{"temporal_patch_size", &o.TemporalPatchSize},
	} {
		if err := intField(raw, "", f.key, f.dst); err != nil {
			return Options{}, err
		}
	}
	for _, f := range []struct {
		key string
		dst *[3]float32
	}{{"image_mean", &o.Mean}, {"image_std", &o.Std}} {
		v, ok := raw[f.key]
		if !ok || string(v) == "null" {
			continue
		}
		var xs []float64
		if err := json.Unmarshal(v, &xs); err != nil {
			var x float64
			if err2 := json.Unmarshal(v, &x); err2 != nil {
				return Options{}, fmt.Errorf("field %s: want a number or a list of 3 numbers, got %s", f.key, v)
			}
			xs = []float64{x, x, x}
		}
		if len(xs) != 3 {
			return Options{}, fmt.Errorf("field %s: want 3 values (one per RGB channel), got %d", f.key, len(xs))
		}
		for c := range 3 {
			f.dst[c] = float32(xs[c])
		}
	}
	if v, ok := raw["rescale_factor"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &o.RescaleFactor); err != nil {
			return Options{}, fmt.Errorf("field rescale_factor: want a number, got %s", v)
		}
	}
	if v, ok := raw["resample"]; ok && string(v) != "null" {
		n, err := parseInt(v)
		if err != nil {
			return Options{}, fmt.Errorf("field resample: %w", err)
		}
		if n != 3 {
			return Options{}, fmt.Errorf("field resample: %d is not supported (only 3 = bicubic)", n)
		}
	}
	for _, key := range []string{"do_resize", "do_rescale", "do_normalize", "do_convert_rgb"} {
		if err := boolMustBeTrue(key); err != nil {
			return Options{}, err
		}
	}
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// decodeObject decodes data, which must be exactly one JSON object (not null, nothing after
// it), into its fields.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw == nil {
		return nil, errors.New("not a JSON object: null")
	}
	return raw, nil
}

func parseInt(v json.RawMessage) (int, error) {
	var n json.Number
	if len(v) > 0 && v[0] == '"' {
		return 0, fmt.Errorf("want an integer, got %s", v)
	}
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, fmt.Errorf("want an integer, got %s", v)
	}
	i, err := n.Int64()
	if err != nil || i < math.MinInt32 || i > math.MaxInt64>>2 {
		return 0, fmt.Errorf("want an integer, got %s", v)
	}
	return int(i), nil
}
