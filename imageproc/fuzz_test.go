package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func FuzzExifOrientation(f *testing.F) {
	f.Add(tiffIFD(binary.LittleEndian, [4]uint32{0x0112, 3, 1, 6}))
	f.Add(tiffIFD(binary.BigEndian, [4]uint32{0x0110, 2, 4, 0}, [4]uint32{0x0112, 4, 1, 8}))
	f.Add([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := exifOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		for _, format := range []string{"jpeg", "png", "webp", "tiff"} {
			if o := fileOrientation(format, b); o < 1 || o > 8 {
				t.Fatalf("%s orientation %d", format, o)
			}
		}
	})
}

// FuzzDecode feeds arbitrary bytes to Decode (seeded with the small
// fixture inputs). Decode must not panic, and a decoded image must be
// consistent and preprocessable.
func FuzzDecode(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join(testdataDir, "inputs"))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(testdataDir, "inputs", e.Name()))
		if err == nil && len(b) < 8192 {
			f.Add(b)
		}
	}
	opts := DefaultOptions()
	opts.MaxDecodePixels = 1 << 20
	small := opts
	small.MinPixels, small.MaxPixels = 1024, 4096
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := decodeData(b, opts)
		// The stream path (any io.Reader) must agree with the random-access one.
		img2, err2 := Decode(context.Background(), &countingReader{data: b, chunk: 777}, "img.bin", opts)
		if (err == nil) != (err2 == nil) || err == nil && !bytes.Equal(img.Pix, img2.Pix) {
			t.Fatalf("random access: %v; stream: %v; or the pixels differ", err, err2)
		}
		if err != nil {
			return
		}
		if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("bad image %dx%d with %d bytes", img.Width, img.Height, len(img.Pix))
		}
		if int64(img.Width)*int64(img.Height) > opts.MaxDecodePixels {
			t.Fatalf("%dx%d decoded past the limit", img.Width, img.Height)
		}
		if _, err := Preprocess(img, small); err != nil && max(img.Width, img.Height) <= 200*min(img.Width, img.Height) {
			t.Fatalf("preprocess %dx%d: %v", img.Width, img.Height, err)
		}
	})
}

// FuzzParsePreprocessorConfig feeds any bytes to the one parser behind ReadPreprocessorConfig
// and ReadVideoPreprocessorConfig (seeded with the fixture configs), as an image and as a video
// config. Neither may panic; what either accepts is one JSON object, validates, and leaves the
// fields a config file cannot set at their defaults.
func FuzzParsePreprocessorConfig(f *testing.F) {
	for _, name := range []string{"config_ckpt", "config_small"} {
		if b, err := os.ReadFile(filepath.Join(testdataDir, name, "preprocessor_config.json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"min_pixels": 3000, "max_pixels": 50000, "size": {"shortest_edge": 1000, "longest_edge": 20000}}`))
	f.Add([]byte(`{"image_mean": 0.25, "image_std": [1, 2, 4], "rescale_factor": 0.5, "resample": 3, "do_resize": true}`))
	f.Add([]byte(`{"size": {"min_pixels": 10, "max_pixels": 100}, "patch_size": 16.5}`))
	f.Add([]byte(`{"size": {"shortest_edge": 4096, "longest_edge": 25165824}, "fps": 2, "max_frames": 8}`))
	f.Add([]byte(`{"cap_pixels_per_frame": true, "max_video_tokens": 8, "image_mean": 0.5, "do_sample_frames": false}`))
	def, vdef := ClassDefaultOptions(), ClassDefaultVideoOptions()
	oneObject := func(t *testing.T, b []byte) {
		if trimmed := bytes.TrimSpace(b); !json.Valid(b) || len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("accepted %q, which is not one JSON object", b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parsePreprocessorConfig(b)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		if err == nil {
			if err := o.Validate(); err != nil {
				t.Fatalf("accepted options do not validate: %v", err)
			}
			oneObject(t, b)
			if o.Resampler != def.Resampler || o.MaxDecodePixels != def.MaxDecodePixels || o.MaxFileBytes != def.MaxFileBytes {
				t.Fatalf("the file changed fields it cannot set: %+v", o)
			}
		}
		v, err := parseVideoPreprocessorConfig(b)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error (video)")
		}
		if err == nil {
			if err := v.Validate(); err != nil {
				t.Fatalf("accepted video options do not validate: %v", err)
			}
			oneObject(t, b)
			if v.Resampler != vdef.Resampler || v.MaxDecodePixels != vdef.MaxDecodePixels || v.MaxFileBytes != vdef.MaxFileBytes ||
				v.FramesFPS != vdef.FramesFPS || v.MaxFrameFiles != vdef.MaxFrameFiles {
				t.Fatalf("the video file changed fields it cannot set: %+v", v)
			}
		}
	})
}
