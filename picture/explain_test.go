package picture

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// explainFor is the Explanation of a w×h image (sides multiples of 32, so the resize keeps
// them) on the tiny tower, with a pixel budget that admits it.
func explainFor(t *testing.T, w, h int) *pipeline.Explanation {
	t.Helper()
	opts := imageproc.DefaultOptions()
	opts.MinPixels = 1024
	opts.MaxPixels = 1 << 24
	cfg, err := vision.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	e, err := pipeline.Explain(cfg, "preset tiny", opts, "a test image", w, h)
	if err != nil {
		t.Fatal(err)
	}
	if e.ResizedWidth != w || e.ResizedHeight != h {
		t.Fatalf("%dx%d resizes to %dx%d", w, h, e.ResizedWidth, e.ResizedHeight)
	}
	return e
}

// patchColours is a w×h image whose every pixel says which patch it is in: R = 8·column,
// G = 8·row, B = 90 + x mod 16.
func patchColours(w, h int) *imageproc.RGB {
	img := imageproc.NewRGB(w, h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(8*(x/16)), uint8(8*(y/16)), uint8(90+x%16)
		}
	}
	return img
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	return m
}

func rgbaAt(m image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
}

// TestExplainGridLines reads the PNG back and checks, along a row inside the lower patch of
// every window row and a column inside the right patch of every window column, that each
// pixel is the window line's colour exactly on both sides of each merge-window boundary, the
// patch line blended over the image exactly on each other patch boundary, and the image's own
// pixel (enlarged by Scale) everywhere else: for a wide, a tall and a 1:1-scale wide image.
func TestExplainGridLines(t *testing.T) {
	for _, tc := range []struct{ w, h int }{{160, 96}, {64, 224}, {832, 128}, {96, 96}} {
		e := explainFor(t, tc.w, tc.h)
		src := patchColours(tc.w, tc.h)
		var buf bytes.Buffer
		if err := Explain(&buf, src, e); err != nil {
			t.Fatal(err)
		}
		m := decodePNG(t, buf.Bytes())
		// The first pixel of the window-line colour, in reading order, is the frame's corner,
		// one pixel up and left of the image.
		ox, oy := -1, -1
		b := m.Bounds()
	find:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if rgbaAt(m, x, y) == WindowLine {
					ox, oy = x+1, y+1
					break find
				}
			}
		}
		if ox < 0 {
			t.Fatalf("%dx%d: no window line found", tc.w, tc.h)
		}
		s := Scale(tc.w, tc.h)
		ps, ws := 16*s, 32*s
		dw, dh := tc.w*s, tc.h*s
		want := func(x, y int, onX bool) color.RGBA {
			c := x
			if !onX {
				c = y
			}
			switch {
			case c == -1 || c == dw && onX || c == dh && !onX || (c+1)%ws == 0 || c%ws == 0:
				return WindowLine
			}
			p := color.RGBA{src.Pix[3*((y/s)*tc.w+x/s)], src.Pix[3*((y/s)*tc.w+x/s)+1], src.Pix[3*((y/s)*tc.w+x/s)+2], 255}
			if c%ps == 0 {
				a := uint32(PatchAlpha)
				mix := func(f, g uint8) uint8 { return uint8((uint32(f)*a + uint32(g)*(255-a) + 127) / 255) }
				return color.RGBA{mix(PatchLine.R, p.R), mix(PatchLine.G, p.G), mix(PatchLine.B, p.B), 255}
			}
			return p
		}
		lines := 0
		for wy := 0; wy < tc.h/32; wy++ {
			y := wy*ws + ps + ps/2 + 1 // inside the lower patch, off its lines, below the label
			for x := -1; x <= dw; x++ {
				if x == -1 || x == dw {
					if got := rgbaAt(m, ox+x, oy+y); got != WindowLine {
						t.Errorf("%dx%d: frame at x=%d, y=%d is %v", tc.w, tc.h, x, y, got)
					}
					continue
				}
				w := want(x, y, true)
				if got := rgbaAt(m, ox+x, oy+y); got != w {
					t.Errorf("%dx%d: pixel (%d, %d) is %v, want %v", tc.w, tc.h, x, y, got, w)
				}
				if w == WindowLine {
					lines++
				}
			}
		}
		for wx := 0; wx < tc.w/32; wx++ {
			x := wx*ws + ps + ps/2 + 1
			_, lh := labelStyle(ws, e.Tokens).size("0")
			for y := 0; y < dh; y++ {
				if y%ws >= 2 && y%ws < 2+lh {
					continue // beside a token number
				}
				w := want(x, y, false)
				if got := rgbaAt(m, ox+x, oy+y); got != w {
					t.Errorf("%dx%d: pixel (%d, %d) is %v, want %v", tc.w, tc.h, x, y, got, w)
				}
			}
		}
		if want := 2 * (tc.w/32 + 1) * (tc.h / 32); lines != want-2*(tc.h/32) {
			t.Errorf("%dx%d: %d window-line pixels on the sampled rows, want %d", tc.w, tc.h, lines, want-2*(tc.h/32))
		}
	}
}

// TestLabelStyle: the token numbers take the 8×16 face at the largest scale that fits (up to a
// third of the window's height), then the 3×5 digits, then none.
func TestLabelStyle(t *testing.T) {
	for _, tc := range []struct {
		window, tokens int
		want           labelSpec
	}{
		{32, 80, labelSpec{faceLabels, 1}},
		{32, 1000, labelSpec{faceLabels, 1}},   // "999": 3·8 + 2 = 26 ≤ 28
		{32, 1001, labelSpec{digitLabels, 1}},  // "1000" at 8×16 is 34 wide; at 3×5 (2×) 34
		{64, 5000, labelSpec{faceLabels, 1}},   // "4999": 34 ≤ 60; scale 2 would be 32 > 64/3 high
		{32, 9999999, labelSpec{}},             // "9999998" in 3×5 is 29 > 28
		{256, 6, labelSpec{faceLabels, 4}},     // 40×64 in 252, 64·3 ≤ 256
		{96, 35, labelSpec{faceLabels, 2}},     // 3·32 ≤ 96
		{224, 70, labelSpec{faceLabels, 4}},    // the golden tiny image's windows at ×7
		{32, 16384, labelSpec{digitLabels, 1}}, // the largest default budget: 16384 tokens
	} {
		if got := labelStyle(tc.window, tc.tokens); got != tc.want {
			t.Errorf("window %d, %d tokens: %+v, want %+v", tc.window, tc.tokens, got, tc.want)
		}
	}
}

// TestExplainErrors: an image of another size than the explanation's, a resized size off the
// grid, and a picture over MaxPixels are errors, not panics.
func TestExplainErrors(t *testing.T) {
	e := explainFor(t, 64, 64)
	if _, err := ExplainImage(patchColours(64, 96), e); err == nil || !strings.Contains(err.Error(), "64x96") {
		t.Errorf("wrong size: %v", err)
	}
	if _, err := ExplainImage(nil, nil); err == nil {
		t.Error("nil explanation accepted")
	}
	bad := *e
	bad.ResizedWidth = 70
	if _, err := ExplainImage(nil, &bad); err == nil {
		t.Error("a resized width off the grid accepted")
	}
	huge := *e
	huge.ResizedWidth, huge.ResizedHeight = 8192, 8192
	if _, err := ExplainImage(nil, &huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("8192×8192: %v, want ErrTooLarge", err)
	}
	// A nil image is a grey stand-in (explain -size).
	if _, err := ExplainImage(nil, e); err != nil {
		t.Errorf("nil image: %v", err)
	}
}

// TestExplainAnyImage: any image.Image of the right size draws as the packed RGB does.
func TestExplainAnyImage(t *testing.T) {
	e := explainFor(t, 96, 64)
	src := patchColours(96, 64)
	rgba := image.NewRGBA(image.Rect(10, 20, 106, 84)) // bounds off the origin
	for y := range 64 {
		for x := range 96 {
			rgba.Set(10+x, 20+y, src.At(x, y))
		}
	}
	a, err := ExplainImage(src, e)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ExplainImage(rgba, e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("an *image.RGBA draws differently from the same *imageproc.RGB")
	}
}
