package imageproc

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestResizeMatrix resizes one 53x41 image (noise | gradient) to many sizes
// and compares with torchvision's and Pillow's bicubic resize.
func TestResizeMatrix(t *testing.T) {
	ts := readSafetensors(t, filepath.Join(testdataDir, "resize_matrix.safetensors"))
	src := ts["src"].rgb()
	for name, want := range ts {
		backend, size, ok := strings.Cut(name, ".")
		if !ok {
			continue
		}
		var w, h int
		if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil {
			t.Fatal(name, err)
		}
		r := ResampleTorchvision
		if backend == "pillow" {
			r = ResamplePillow
		}
		got, err := Resize(src, w, h, r)
		if err != nil {
			t.Fatal(name, err)
		}
		s, err := compareRGB(got, want.rgb())
		if err != nil {
			t.Fatal(name, err)
		}
		if s.equal != s.n {
			t.Errorf("%s: %v", name, s)
		}
	}
}

func TestResizeIdentityAndErrors(t *testing.T) {
	src := NewRGB(5, 4)
	got, err := Resize(src, 5, 4, ResampleTorchvision)
	if err != nil || got != src {
		t.Fatalf("identity resize: %v %v", got, err)
	}
	for _, c := range []struct {
		src  *RGB
		w, h int
	}{{nil, 1, 1}, {NewRGB(0, 3), 1, 1}, {src, 0, 3}, {src, 3, -1}, {&RGB{Width: 2, Height: 2}, 1, 1}} {
		if _, err := Resize(c.src, c.w, c.h, ResampleTorchvision); err == nil {
			t.Errorf("Resize(%v, %d, %d): no error", c.src, c.w, c.h)
		}
	}
	if _, err := Resize(src, 2, 2, Resampler(7)); err == nil {
		t.Error("unknown resampler accepted")
	}
}

// TestResizeParallelDeterministic checks that splitting rows over
// goroutines does not change the result.
func TestResizeParallelDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := NewRGB(301, 203)
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
	}
	a, _ := Resize(src, 640, 480, ResampleTorchvision)
	k := newKernel(src.Width, 640, ResampleTorchvision)
	k2 := newKernel(src.Height, 480, ResampleTorchvision)
	// Serial reference: run the passes on one row range each.
	tmp := NewRGB(640, src.Height)
	half := int32(1) << (k.prec - 1)
	for y := range src.Height {
		for xx := range 640 {
			for c := range 3 {
				s := half
				for i := range k.n[xx] {
					s += int32(src.Pix[3*(y*src.Width+k.start[xx]+i)+c]) * k.w[xx*k.ksize+i]
				}
				tmp.Pix[3*(y*640+xx)+c] = clampShift(s, k.prec)
			}
		}
	}
	half2 := int32(1) << (k2.prec - 1)
	for yy := range 480 {
		for x := range 3 * 640 {
			s := half2
			for i := range k2.n[yy] {
				s += int32(tmp.Pix[(k2.start[yy]+i)*3*640+x]) * k2.w[yy*k2.ksize+i]
			}
			if got := a.Pix[yy*3*640+x]; got != clampShift(s, k2.prec) {
				t.Fatalf("row %d value %d: %d != %d", yy, x, got, clampShift(s, k2.prec))
			}
		}
	}
}
