package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jpegFixtureDir holds internal/jpeg's fixtures: JPEG files with the
// pixels libjpeg-turbo's djpeg decodes from them (testdata/jpeg/README.md).
const jpegFixtureDir = "../testdata/jpeg"

// readPPM parses a binary P5/P6 file as djpeg writes it (maxval 255, one
// whitespace byte after the header) into 8-bit RGB, replicating gray.
func readPPM(b []byte) (*RGB, error) {
	var magic string
	var w, h, maxval int
	r := bytes.NewReader(b)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxval); err != nil {
		return nil, err
	}
	if _, err := r.ReadByte(); err != nil {
		return nil, err
	}
	pix := b[len(b)-r.Len():]
	ch := map[string]int{"P5": 1, "P6": 3}[magic]
	if ch == 0 || maxval != 255 || len(pix) != w*h*ch {
		return nil, fmt.Errorf("unsupported PNM: %s %dx%d maxval %d, %d sample bytes", magic, w, h, maxval, len(pix))
	}
	out := NewRGB(w, h)
	for i := range w * h {
		for c := range 3 {
			out.Pix[3*i+c] = pix[i*ch+c%ch]
		}
	}
	return out, nil
}

// TestJPEGFixturesThroughDecode runs JPEG files that internal/jpeg decodes
// bit-exactly through the public entry points (Decode, PreprocessFile):
// sampling layouts the standard library's header reader refused
// ("unsupported luma/chroma subsampling ratio"), and arithmetic-coded
// files. Decode must return djpeg's pixels exactly.
func TestJPEGFixturesThroughDecode(t *testing.T) {
	for _, tc := range []struct{ jpg, ref string }{
		{"cj_sample_3x1.jpg", "cj_sample_3x1.ppm"},
		{"cj_sample_1x4.jpg", "cj_sample_1x4.ppm"},
		{"cj_sample_1x1_2x2_1x1.jpg", "cj_sample_1x1_2x2_1x1.ppm"},
		{"cj_arith_q75_2x2.jpg", "cj_arith_q75_2x2.ppm"},
		{"cj_arith_prog_restart2_2x2.jpg", "cj_arith_prog_restart2_2x2.ppm"},
		{"cj_arith_gray_prog_q90.jpg", "cj_arith_gray_prog_q90.pgm"},
		{"lj_arith_dac_L2U6K20.jpg", "lj_arith_dac_L2U6K20.ppm"},
	} {
		t.Run(tc.jpg, func(t *testing.T) {
			path := filepath.Join(jpegFixtureDir, tc.jpg)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			refData, err := os.ReadFile(filepath.Join(jpegFixtureDir, tc.ref))
			if err != nil {
				t.Fatal(err)
			}
			want, err := readPPM(refData)
			if err != nil {
				t.Fatalf("%s: %v", tc.ref, err)
			}
			opts := DefaultOptions()
			got, err := Decode(context.Background(), bytes.NewReader(data), tc.jpg, opts)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Width != want.Width || got.Height != want.Height {
				t.Fatalf("Decode: %dx%d, reference %dx%d", got.Width, got.Height, want.Width, want.Height)
			}
			if d := countDiff(got.Pix, want.Pix); d != 0 {
				t.Fatalf("Decode: %d bytes differ from djpeg's", d)
			}
			if _, err := PreprocessFile(context.Background(), path, opts); err != nil {
				t.Fatalf("PreprocessFile: %v", err)
			}
		})
	}
}

func countDiff(a, b []uint8) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestJPEGHeaderLimits checks that the JPEG header check refuses a frame
// over Options.MaxDecodePixels, or over the decoder's own jpeg.MaxPixels
// when the option allows more, as ErrTooLarge before any pixel is decoded.
func TestJPEGHeaderLimits(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(jpegFixtureDir, "cj_sample_3x1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	sized := func(w, h int) []byte {
		b := append([]byte(nil), base...)
		i := bytes.Index(b, []byte{0xff, 0xc0})
		if i < 0 {
			t.Fatal("no SOF0")
		}
		binary.BigEndian.PutUint16(b[i+5:], uint16(h))
		binary.BigEndian.PutUint16(b[i+7:], uint16(w))
		return b
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		maxPixels int64
	}{
		{"over MaxDecodePixels", sized(48, 40), 48*40 - 1},
		{"over jpeg.MaxPixels", sized(40000, 40000), 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.MaxDecodePixels = tc.maxPixels
			_, err := Decode(context.Background(), bytes.NewReader(tc.data), "big.jpg", opts)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.jpg") {
				t.Fatalf("got %v, want ErrTooLarge naming the file", err)
			}
		})
	}
}
