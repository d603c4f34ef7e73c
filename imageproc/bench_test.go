package imageproc

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// syntheticJPEG encodes a photo-like width×height image (smooth colour
// fields, edges and grain) as a 4:2:0 JPEG at quality 90.
func syntheticJPEG(tb testing.TB, width, height int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	seed := uint32(1)
	for y := range height {
		fy := float64(y) / float64(height)
		for x := range width {
			fx := float64(x) / float64(width)
			seed = seed*1664525 + 1013904223
			grain := float64(seed>>24) / 32
			r := 128 + 60*math.Sin(6*fx+2*fy) + grain
			g := 128 + 50*math.Sin(3*fy-4*fx+1) + grain
			b := 128 + 70*math.Cos(5*fx*fy+fy)
			if (x/97+y/61)%7 == 0 {
				r, g = 240, 30
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(r), uint8(g), uint8(b), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// loop runs fn b.N times and reports the process CPU time per operation
// (cpu-ms/op, all threads) next to the wall time.
func loop(b *testing.B, fn func()) {
	c0 := processCPUTime()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	if c := processCPUTime() - c0; c > 0 && n > 0 {
		b.ReportMetric(float64(c.Microseconds())/1e3/float64(n), "cpu-ms/op")
	}
}

// BenchmarkPreprocessJPEG4000x3000 measures decoding a 12-megapixel JPEG,
// resizing it to the default budget (4000x3008) and patchifying it
// (47,000 patches of 1536 float32).
func BenchmarkPreprocessJPEG4000x3000(b *testing.B) {
	data := syntheticJPEG(b, 4000, 3000)
	opts := DefaultOptions()
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		loop(b, func() {
			if _, err := decodeData(data, opts); err != nil {
				b.Fatal(err)
			}
		})
	})
	img, err := decodeData(data, opts)
	if err != nil {
		b.Fatal(err)
	}
	h, w, _ := SmartResize(img.Height, img.Width, opts.Factor(), opts.MinPixels, opts.MaxPixels)
	b.Run("resize", func(b *testing.B) {
		loop(b, func() {
			if _, err := Resize(img, w, h, opts.Resampler); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("resize-both-axes", func(b *testing.B) { // 4000x3000 -> 3552x2656
		loop(b, func() {
			if _, err := Resize(img, 3552, 2656, opts.Resampler); err != nil {
				b.Fatal(err)
			}
		})
	})
	resized, _ := Resize(img, w, h, opts.Resampler)
	b.Run("patchify", func(b *testing.B) {
		loop(b, func() {
			if _, _, err := Patchify(resized, opts); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("all", func(b *testing.B) {
		loop(b, func() {
			img, err := decodeData(data, opts)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Preprocess(img, opts); err != nil {
				b.Fatal(err)
			}
		})
	})
}
