package jpeg

import (
	"bytes"
	"image"
	"image/draw"
	stdjpeg "image/jpeg"
	"math/rand"
	"sync"
	"testing"
)

// benchImages holds the benchmark inputs: a 2000x1500 4:2:0 quality-90
// baseline JPEG and the same picture re-encoded as progressive (by cjpeg
// when available, see benchProgressive).
var (
	benchOnce     sync.Once
	benchBaseline []byte
)

// benchPicture renders a deterministic 2000x1500 photo-like picture.
func benchPicture() *image.RGBA {
	const w, h = 2000, 1500
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(7))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			n := rng.Intn(24)
			img.Pix[i+0] = byte((x*x/3000 + y/7 + n) % 256)
			img.Pix[i+1] = byte((x/5 + (y*y)/5000 + n) % 256)
			img.Pix[i+2] = byte(((x+y)/9 + n*2) % 256)
			img.Pix[i+3] = 255
		}
	}
	return img
}

func loadBench(b *testing.B) {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		// image/jpeg writes 4:2:0 YCbCr.
		if err := stdjpeg.Encode(&buf, benchPicture(), &stdjpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		benchBaseline = buf.Bytes()
	})
}

func benchProgressive(b *testing.B) []byte {
	loadBench(b)
	if !haveTool("jpegtran") {
		b.Skip("jpegtran not on PATH; progressive benchmark needs it to build its input")
	}
	out, err := runTool(benchBaseline, "jpegtran", "-progressive")
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStd(b *testing.B, data []byte, toRGBA bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		img, err := stdjpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if toRGBA {
			dst := image.NewRGBA(img.Bounds())
			draw.Draw(dst, dst.Rect, img, image.Point{}, draw.Src)
		}
	}
}

func BenchmarkDecodeBaseline420(b *testing.B) { loadBench(b); benchDecode(b, benchBaseline) }
func BenchmarkStdBaseline420(b *testing.B)    { loadBench(b); benchStd(b, benchBaseline, false) }
func BenchmarkStdBaseline420RGBA(b *testing.B) {
	loadBench(b)
	benchStd(b, benchBaseline, true)
}
func BenchmarkDecodeProgressive420(b *testing.B) { benchDecode(b, benchProgressive(b)) }
func BenchmarkStdProgressive420(b *testing.B)    { benchStd(b, benchProgressive(b), false) }
func BenchmarkStdProgressive420RGBA(b *testing.B) {
	benchStd(b, benchProgressive(b), true)
}
