package imageproc

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnpatchifyReference: the reference processor's own pixel_values, unpatchified, are the
// reference's resized image (both stored by tools/reference/preprocess_goldens.py).
func TestUnpatchifyReference(t *testing.T) {
	opts := configOptions(t, "small", ResampleTorchvision)
	for _, name := range []string{"edges_97x61", "tiny_7x5"} {
		ts := readSafetensors(t, filepath.Join(testdataDir, "golden", name+".safetensors"))
		pv, grid, want := ts["small.default.pixel_values"], ts["small.default.grid"].i64(), ts["small.default.resized"].rgb()
		got, err := Unpatchify(pv.f32(), Grid{T: int(grid[0]), H: int(grid[1]), W: int(grid[2])}, 0, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: unpatchified %dx%d differs from the reference's resized %dx%d", name, got.Width, got.Height, want.Width, want.Height)
		}
	}
}

// TestUnpatchifyRoundTrip: Unpatchify inverts Patchify for any levels, with the Qwen3-VL
// normalisation, CLIP's, and a negative std (a decreasing table); Resized is the image
// Preprocess patchifies.
func TestUnpatchifyRoundTrip(t *testing.T) {
	clip := DefaultOptions()
	clip.Mean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	clip.Std = [3]float32{0.26862954, 0.26130258, 0.27577711}
	neg := DefaultOptions()
	neg.Std = [3]float32{-0.5, 0.25, -1}
	for _, tc := range []struct {
		name string
		opts Options
	}{{"qwen", DefaultOptions()}, {"clip", clip}, {"negative std", neg}} {
		img := NewRGB(96, 64)
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7919 % 256) // every level
		}
		pix, grid, err := Patchify(img, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unpatchify(pix, grid, 0, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.Pix, img.Pix) {
			t.Errorf("%s: the round trip changes the image", tc.name)
		}
	}
	src := NewRGB(150, 90)
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 31 % 251)
	}
	opts := DefaultOptions()
	opts.MinPixels = 8192
	r, err := Resized(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := Preprocess(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	pix, _, err := Patchify(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Width != pre.ResizedWidth || r.Height != pre.ResizedHeight || len(pix) != len(pre.Pixels) {
		t.Fatalf("Resized %dx%d, Preprocess %dx%d", r.Width, r.Height, pre.ResizedWidth, pre.ResizedHeight)
	}
	for i := range pix {
		if math.Float32bits(pix[i]) != math.Float32bits(pre.Pixels[i]) {
			t.Fatalf("Patchify(Resized) differs from Preprocess at value %d", i)
		}
	}
}

// TestUnpatchifyErrors: mismatched sizes, grids and groups are errors naming the problem.
func TestUnpatchifyErrors(t *testing.T) {
	opts := DefaultOptions()
	pix := make([]float32, 4*opts.PatchDim())
	for _, tc := range []struct {
		name  string
		pix   []float32
		grid  Grid
		group int
		want  string
	}{
		{"short", pix[:10], Grid{1, 2, 2}, 0, "10 values"},
		{"empty grid", pix, Grid{1, 0, 2}, 0, "empty grid"},
		{"odd grid", pix, Grid{1, 1, 4}, 0, "merge size"},
		{"group", pix, Grid{1, 2, 2}, 1, "temporal group 1"},
	} {
		if _, err := Unpatchify(tc.pix, tc.grid, tc.group, opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := Resized(nil, opts); err == nil {
		t.Error("Resized(nil) accepted")
	}
	if _, err := Resized(NewRGB(300, 1), opts); err == nil || !strings.Contains(err.Error(), "aspect ratio") {
		t.Errorf("a 300×1 image: %v", err)
	}
}
