package imageproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestDecodeHeaderFileAgreesWithDecode: on every input fixture the header check accepts what
// Decode decodes, with the same size (up to the orientation's swap), and refuses, for the same
// reason, what Decode refuses at its header.
func TestDecodeHeaderFileAgreesWithDecode(t *testing.T) {
	ctx := context.Background()
	opts := DefaultOptions()
	files, _ := filepath.Glob("../testdata/imageproc/inputs/*")
	jpegs, _ := filepath.Glob("../testdata/jpeg/*.jpg")
	files = append(files, jpegs...)
	if len(files) < 50 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		img, derr := DecodeFile(ctx, f, opts)
		h, herr := DecodeHeaderFile(ctx, f, opts)
		switch {
		case derr == nil && herr != nil:
			if !errors.Is(herr, ErrAspectRatio) {
				t.Errorf("%s: decodes, but the header check says %v", f, herr)
			}
		case derr == nil:
			if !(h.Width == img.Width && h.Height == img.Height || h.Width == img.Height && h.Height == img.Width) {
				t.Errorf("%s: header %dx%d, decoded %dx%d", f, h.Width, h.Height, img.Width, img.Height)
			}
		case herr == nil && (errors.Is(derr, ErrTooLarge) || errors.Is(derr, ErrUnsupportedFormat)):
			t.Errorf("%s: Decode refuses at the header (%v), the header check passes", f, derr)
		}
	}
}

func TestDecodeHeaderFileRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.png")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(dir, "notes.png")
	os.WriteFile(text, []byte("hello, this is not an image"), 0o644)
	small := DefaultOptions()
	small.MaxDecodePixels = 1000
	for _, tc := range []struct {
		path string
		opts Options
		want error
	}{
		{"../testdata/imageproc/inputs/aspect_1x201.png", DefaultOptions(), ErrAspectRatio},
		{"../testdata/imageproc/inputs/grad_400x300.png", small, ErrTooLarge},
		{empty, DefaultOptions(), ErrUnsupportedFormat},
		{text, DefaultOptions(), ErrUnsupportedFormat},
		{dir, DefaultOptions(), ErrNotRegular},
		{filepath.Join(dir, "missing.png"), DefaultOptions(), os.ErrNotExist},
	} {
		if _, err := DecodeHeaderFile(ctx, tc.path, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.path, err, tc.want)
		}
	}
	if _, err := DecodeHeaderFile(ctx, "../testdata/imageproc/inputs/aspect_199x1.png", DefaultOptions()); err != nil {
		t.Errorf("aspect 199: %v", err)
	}
}
