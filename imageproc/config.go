package imageproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// The one parser behind ReadPreprocessorConfig (preprocessor_config.json) and
// ReadVideoPreprocessorConfig (video_preprocessor_config.json): the file must be exactly one JSON
// object (not null, nothing after it); a field that is absent or null keeps the class default;
// a field of the wrong type or value is an error naming it ("field size.shortest_edge: ...").

// configObject is a decoded JSON object's fields; prefix names it in errors ("" or "size.").
type configObject struct {
	fields map[string]json.RawMessage
	prefix string
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

// value returns the field's JSON text, or false when it is absent or null.
func (c configObject) value(key string) (json.RawMessage, bool) {
	v, ok := c.fields[key]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// has reports whether the field is present and not null.
func (c configObject) has(key string) bool { _, ok := c.value(key); return ok }

func (c configObject) errorf(key, format string, args ...any) error {
	return fmt.Errorf("field %s%s: %s", c.prefix, key, fmt.Sprintf(format, args...))
}

// object returns the field as an object (ok false when absent or null).
func (c configObject) object(key string) (obj configObject, ok bool, err error) {
	v, ok := c.value(key)
	if !ok {
		return configObject{}, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return configObject{}, false, c.errorf(key, "want an object, got %s", v)
	}
	return configObject{fields: m, prefix: c.prefix + key + "."}, true, nil
}

// ints sets each present field that is an integer (not a string, not a fraction).
func (c configObject) ints(fields ...intField) error {
	for _, f := range fields {
		v, ok := c.value(f.key)
		if !ok {
			continue
		}
		n, err := parseInt(v)
		if err != nil {
			return c.errorf(f.key, "%v", err)
		}
		*f.dst = n
	}
	return nil
}

type intField struct {
	key string
	dst *int
}

// bool sets dst from the field if present; it must be a JSON boolean.
func (c configObject) bool(key string, dst *bool) error {
	v, ok := c.value(key)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return c.errorf(key, "want a boolean, got %s", v)
	}
	return nil
}

// float sets dst from the field if present; it must be a JSON number.
func (c configObject) float(key string, dst *float64) error {
	v, ok := c.value(key)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return c.errorf(key, "want a number, got %s", v)
	}
	return nil
}

// channels sets dst from a number (all three channels) or a list of three numbers.
func (c configObject) channels(key string, dst *[3]float32) error {
	v, ok := c.value(key)
	if !ok {
		return nil
	}
	var xs []float64
	if err := json.Unmarshal(v, &xs); err != nil {
		var x float64
		if err2 := json.Unmarshal(v, &x); err2 != nil {
			return c.errorf(key, "want a number or a list of 3 numbers, got %s", v)
		}
		xs = []float64{x, x, x}
	}
	if len(xs) != 3 {
		return c.errorf(key, "want 3 values (one per RGB channel), got %d", len(xs))
	}
	for i := range 3 {
		dst[i] = float32(xs[i])
	}
	return nil
}

// sharedFields decodes what image and video configs share into o: patch, merge and temporal
// patch sizes, mean and std, rescale factor, and the settings that must keep their defaults
// (resample 3 = bicubic; do_resize, do_rescale, do_normalize, do_convert_rgb true).
func (c configObject) sharedFields(o *Options) error {
	if err := c.ints(intField{"patch_size", &o.PatchSize}, intField{"merge_size", &o.MergeSize},
		intField{"temporal_patch_size", &o.TemporalPatchSize}); err != nil {
		return err
	}
	for _, key := range []string{"image_mean", "image_std"} {
		dst := &o.Mean
		if key == "image_std" {
			dst = &o.Std
		}
		if err := c.channels(key, dst); err != nil {
			return err
		}
	}
	if err := c.float("rescale_factor", &o.RescaleFactor); err != nil {
		return err
	}
	resample := 3
	if err := c.ints(intField{"resample", &resample}); err != nil {
		return err
	}
	if resample != 3 {
		return c.errorf("resample", "%d is not supported (only 3 = bicubic)", resample)
	}
	for _, key := range []string{"do_resize", "do_rescale", "do_normalize", "do_convert_rgb"} {
		b := true
		if err := c.bool(key, &b); err != nil {
			return err
		}
		if !b {
			return c.errorf(key, "false is not supported")
		}
	}
	return nil
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

func parsePreprocessorConfig(data []byte) (Options, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return Options{}, err
	}
	c := configObject{fields: raw}
	o := ClassDefaultOptions()
	size, hasSize, err := c.object("size")
	if err != nil {
		return Options{}, err
	}
	if hasSize {
		// Older Qwen2-VL configs spelled the budget size.min_pixels/max_pixels;
		// transformers 5.24.0 fails on them (a comparison with None).
		for _, key := range []string{"min_pixels", "max_pixels"} {
			if _, ok := size.fields[key]; ok {
				return Options{}, size.errorf(key, "not supported by the reference; use size.shortest_edge/longest_edge or a top-level %s", key)
			}
		}
		if err := size.ints(intField{"shortest_edge", &o.MinPixels}, intField{"longest_edge", &o.MaxPixels}); err != nil {
			return Options{}, err
		}
		// The file's "size" replaces the class default as a whole.
		_, hasMin := size.fields["shortest_edge"]
		_, hasMax := size.fields["longest_edge"]
		_, topMin := raw["min_pixels"]
		_, topMax := raw["max_pixels"]
		if !(hasMin || topMin) || !(hasMax || topMax) {
			return Options{}, c.errorf("size", "must contain both shortest_edge and longest_edge, got %s", raw["size"])
		}
	}
	// As in the reference's __init__, top-level min_pixels / max_pixels win over size.
	if err := c.ints(intField{"min_pixels", &o.MinPixels}, intField{"max_pixels", &o.MaxPixels}); err != nil {
		return Options{}, err
	}
	if err := c.sharedFields(&o); err != nil {
		return Options{}, err
	}
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

func parseVideoPreprocessorConfig(data []byte) (VideoOptions, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return VideoOptions{}, err
	}
	c := configObject{fields: raw}
	o := ClassDefaultVideoOptions()
	size, hasSize, err := c.object("size")
	if err != nil {
		return VideoOptions{}, err
	}
	if hasSize {
		// The file's "size" replaces the class default as a whole, and the
		// video processor's resize needs both keys.
		if !size.has("shortest_edge") || !size.has("longest_edge") {
			return VideoOptions{}, c.errorf("size", "must contain shortest_edge and longest_edge (the T×H×W pixel budget), got %s", raw["size"])
		}
		if err := size.ints(intField{"shortest_edge", &o.MinPixels}, intField{"longest_edge", &o.MaxPixels}); err != nil {
			return VideoOptions{}, err
		}
	}
	// Top-level min_pixels / max_pixels are ignored, as the reference ignores them for videos.
	if err := c.sharedFields(&o.Options); err != nil {
		return VideoOptions{}, err
	}
	if err := c.ints(intField{"min_frames", &o.MinFrames}, intField{"max_frames", &o.MaxFrames},
		intField{"max_video_tokens", &o.MaxVideoTokens}); err != nil {
		return VideoOptions{}, err
	}
	if v, ok := raw["fps"]; ok && string(v) == "null" {
		return VideoOptions{}, c.errorf("fps", "null (sample every frame up to max_frames) is not supported; give a rate")
	}
	if err := c.float("fps", &o.FPS); err != nil {
		return VideoOptions{}, err
	}
	if c.has("num_frames") {
		return VideoOptions{}, c.errorf("num_frames", "a fixed frame count is not supported; use fps")
	}
	if err := c.bool("do_sample_frames", &o.DoSampleFrames); err != nil {
		return VideoOptions{}, err
	}
	if err := c.bool("cap_pixels_per_frame", &o.CapPixelsPerFrame); err != nil {
		return VideoOptions{}, err
	}
	if err := o.Validate(); err != nil {
		return VideoOptions{}, err
	}
	return o, nil
}
