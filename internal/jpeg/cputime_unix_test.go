//go:build unix

package jpeg

import (
	"bytes"
	"image"
	"image/draw"
	stdjpeg "image/jpeg"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestCompareCPUTime (opt-in: JPEG_BENCH=1) reports the best-of-8 process
// CPU time of Decode, image/jpeg's Decode, and image/jpeg's Decode plus
// conversion to RGBA on the benchmark images. CPU time is more stable than
// wall time on a shared machine. Run with GOMAXPROCS=1.
func TestCompareCPUTime(t *testing.T) {
	if os.Getenv("JPEG_BENCH") != "1" {
		t.Skip("set JPEG_BENCH=1 to compare CPU time with image/jpeg")
	}
	var b testing.B
	loadBench(&b)
	inputs := []struct {
		name string
		data []byte
	}{{"baseline 4:2:0 q90", benchBaseline}}
	if haveTool("jpegtran") {
		inputs = append(inputs, struct {
			name string
			data []byte
		}{"progressive 4:2:0 q90", benchProgressive(&b)})
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	best := func(f func()) time.Duration {
		f()
		m := time.Duration(1 << 62)
		for i := 0; i < 8; i++ {
			s := cpu()
			f()
			m = min(m, cpu()-s)
		}
		return m
	}
	for _, in := range inputs {
		ours := best(func() { Decode(bytes.NewReader(in.data)) })
		std := best(func() { stdjpeg.Decode(bytes.NewReader(in.data)) })
		stdRGBA := best(func() {
			img, _ := stdjpeg.Decode(bytes.NewReader(in.data))
			dst := image.NewRGBA(img.Bounds())
			draw.Draw(dst, dst.Rect, img, image.Point{}, draw.Src)
		})
		t.Logf("%s, %d bytes: Decode %v; image/jpeg %v (ratio %.2f); image/jpeg+RGBA %v (ratio %.2f)",
			in.name, len(in.data), ours, std, float64(ours)/float64(std), stdRGBA, float64(ours)/float64(stdRGBA))
	}
}
