package imageproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPreprocessorConfigCheckpoint(t *testing.T) {
	got := configOptions(t, "ckpt", ResampleTorchvision)
	if got != DefaultOptions() {
		t.Errorf("checkpoint config = %+v, want DefaultOptions %+v", got, DefaultOptions())
	}
	small := configOptions(t, "small", ResampleTorchvision)
	if small.MinPixels != 1024 || small.MaxPixels != 8192 {
		t.Errorf("small config budget = [%d, %d]", small.MinPixels, small.MaxPixels)
	}
}

func TestParsePreprocessorConfig(t *testing.T) {
	ok := []struct {
		json  string
		check func(Options) bool
	}{
		// Missing fields take Qwen2VLImageProcessor's class defaults, as in
		// the reference (3136 / 1003520 / patch 14 / CLIP mean).
		{`{}`, func(o Options) bool { return o == ClassDefaultOptions() }},
		{`{"min_pixels": 3000, "max_pixels": 50000, "size": {"shortest_edge": 1000, "longest_edge": 20000}}`,
			func(o Options) bool { return o.MinPixels == 3000 && o.MaxPixels == 50000 }},
		{`{"size": {"shortest_edge": 1000}, "max_pixels": 5000}`,
			func(o Options) bool { return o.MinPixels == 1000 && o.MaxPixels == 5000 }},
		{`{"image_mean": 0.25, "image_std": [1, 2, 4], "rescale_factor": 0.5, "resample": 3, "do_resize": true}`,
			func(o Options) bool {
				return o.Mean == [3]float32{0.25, 0.25, 0.25} && o.Std == [3]float32{1, 2, 4} && o.RescaleFactor == 0.5
			}},
	}
	for _, c := range ok {
		o, err := parsePreprocessorConfig([]byte(c.json))
		if err != nil || !c.check(o) {
			t.Errorf("%s: %+v, %v", c.json, o, err)
		}
	}
	bad := []struct{ json, field string }{
		{`[]`, "JSON object"},
		{`null`, "JSON object"},
		{`{"patch_size": 16} {"patch_size": 0}`, "JSON object"},
		{`{"patch_size": "16"}`, "patch_size"},
		{`{"patch_size": 16.5}`, "patch_size"},
		{`{"patch_size": 0}`, "patch_size"},
		{`{"merge_size": -2}`, "merge_size"},
		{`{"temporal_patch_size": 0}`, "temporal_patch_size"},
		{`{"size": {"min_pixels": 10, "max_pixels": 100}}`, "size.min_pixels"},
		{`{"size": {"shortest_edge": 100}}`, "size"},
		{`{"size": 5}`, "size"},
		{`{"size": {"shortest_edge": 0, "longest_edge": 10}}`, "min_pixels"},
		{`{"min_pixels": 100, "max_pixels": 10}`, "max_pixels"},
		{`{"image_mean": [0.5, 0.5]}`, "image_mean"},
		{`{"image_std": [0.5, 0, 0.5]}`, "image_std"},
		{`{"image_std": "x"}`, "image_std"},
		{`{"rescale_factor": 0}`, "rescale_factor"},
		{`{"rescale_factor": "a"}`, "rescale_factor"},
		{`{"resample": 2}`, "resample"},
		{`{"do_normalize": false}`, "do_normalize"},
		{`{"do_convert_rgb": 0}`, "do_convert_rgb"},
	}
	for _, c := range bad {
		_, err := parsePreprocessorConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming %q", c.json, err, c.field)
		}
	}
}

func TestReadPreprocessorConfigErrors(t *testing.T) {
	if _, err := ReadPreprocessorConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
	p := filepath.Join(t.TempDir(), "preprocessor_config.json")
	if err := os.WriteFile(p, []byte(`{"patch_size": -1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPreprocessorConfig(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "patch_size") {
		t.Errorf("error %v should name the file and the field", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Options){
		func(o *Options) { o.PatchSize = 0 },
		func(o *Options) { o.MergeSize = 0 },
		func(o *Options) { o.TemporalPatchSize = 0 },
		func(o *Options) { o.MinPixels = 0 },
		func(o *Options) { o.MaxPixels = 10 },
		func(o *Options) { o.RescaleFactor = 0 },
		func(o *Options) { o.Std[1] = 0 },
		func(o *Options) { o.Resampler = 9 },
		func(o *Options) { o.MaxDecodePixels = 0 },
	} {
		o := DefaultOptions()
		mut(&o)
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
		if _, err := Preprocess(NewRGB(4, 4), o); err == nil {
			t.Errorf("Preprocess accepted %+v", o)
		}
	}
}

// TestConfigSharedStrictness: the keys image and video configs share are decoded by one parser,
// so both refuse the same bad values with an error naming the key.
func TestConfigSharedStrictness(t *testing.T) {
	for _, c := range []struct{ json, field string }{
		{`[]`, "JSON object"},
		{`null`, "JSON object"},
		{`{"patch_size": 16} {"patch_size": 0}`, "JSON object"},
		{`{"patch_size": "16"}`, "patch_size"},
		{`{"merge_size": 2.5}`, "merge_size"},
		{`{"temporal_patch_size": true}`, "temporal_patch_size"},
		{`{"size": 5}`, "size"},
		{`{"size": {"shortest_edge": "1", "longest_edge": 10}}`, "size.shortest_edge"},
		{`{"size": {"shortest_edge": 100}}`, "size"},
		{`{"image_mean": [0.5, 0.5]}`, "image_mean"},
		{`{"image_std": "x"}`, "image_std"},
		{`{"rescale_factor": "a"}`, "rescale_factor"},
		{`{"resample": 2}`, "resample"},
		{`{"resample": "3"}`, "resample"},
		{`{"do_rescale": false}`, "do_rescale"},
		{`{"do_convert_rgb": 0}`, "do_convert_rgb"},
	} {
		_, err := parsePreprocessorConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("image %s: error %v, want one naming %q", c.json, err, c.field)
		}
		_, err = parseVideoPreprocessorConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("video %s: error %v, want one naming %q", c.json, err, c.field)
		}
	}
	// The file name is in the error of both readers.
	dir := t.TempDir()
	p := filepath.Join(dir, "video_preprocessor_config.json")
	if err := os.WriteFile(p, []byte(`{"fps": "2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadVideoPreprocessorConfig(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "fps") {
		t.Errorf("video config error %v should name the file and the field", err)
	}
}
