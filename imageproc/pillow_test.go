package imageproc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestPillowGolden: the mode read from each fixture's header is the one Pillow itself opened it
// with (testdata/vllm/ec/hashes.json, from tools/reference/vllm_ec_check.py), and the
// transparency test agrees with vLLM's conversion: every image whose vLLM-loaded pixels differ
// from Pillow's plain RGB conversion is translucent here.
func TestPillowGolden(t *testing.T) {
	dir := "../testdata/vllm/ec"
	b, err := os.ReadFile(filepath.Join(dir, "hashes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images map[string]struct {
			Mode     string `json:"pillow_mode"`
			IOConfig any    `json:"io_config"`
			SameRGB  bool   `json:"vllm_rgb_equals_hf_rgb"`
		} `json:"images"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Images) < 50 {
		t.Fatalf("hashes.json: %d images, %v", len(doc.Images), err)
	}
	for name, want := range doc.Images {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		v, err := Pillow(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if v.Mode != want.Mode {
			t.Errorf("%s: mode %s, Pillow's %s", name, v.Mode, want.Mode)
		}
		if v.PlainRGB() != (want.IOConfig == nil) {
			t.Errorf("%s: plain RGB %v, but vLLM's io_config is %v", name, v.PlainRGB(), want.IOConfig)
		}
		tr, err := Translucent(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if tr && !v.Transparency {
			t.Errorf("%s: translucent without transparency", name)
		}
		if tr == want.SameRGB {
			t.Errorf("%s: translucent %v, but vLLM's pixels equal the plain conversion: %v", name, tr, want.SameRGB)
		}
	}
}

// TestPillowBadInput: truncated headers and unknown bytes are errors, never panics.
func TestPillowBadInput(t *testing.T) {
	files, _ := filepath.Glob("../testdata/imageproc/inputs/*")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 3, 8, 12, 16, 20, 24, 26, 30, 40, 60, 100} {
			if n < len(data) {
				Pillow(f, data[:n])
				Translucent(f, data[:n])
			}
		}
	}
	if _, err := Pillow("x", []byte("hello world, not an image")); err == nil {
		t.Error("text: no error")
	}
	if _, err := Pillow("x", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x05\x00\x00\x00")); err == nil {
		t.Error("PNG colour type 5: no error")
	}
}
