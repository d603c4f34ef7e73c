package imageproc

import (
	"encoding/binary"
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
