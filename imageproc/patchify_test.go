package imageproc

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naivePatchify spells out the reference's tensor ops for one image:
// x[C, H, W] -> reshape [C, gh/m, m, p, gw/m, m, p] -> permute to
// [gh/m, gw/m, m, m, C, p, p] -> insert T copies before the patch axes ->
// reshape [gh*gw, C*T*p*p].
func naivePatchify(img *RGB, o Options) []float32 {
	p, m, T := o.PatchSize, o.MergeSize, o.TemporalPatchSize
	gh, gw := img.Height/p, img.Width/p
	lut := NormalizeLUT(o)
	out := make([]float32, gh*gw*3*T*p*p)
	for c := range 3 {
		for a := range gh / m { // block row
			for mh := range m {
				for py := range p {
					for b := range gw / m { // block column
						for mw := range m {
							for px := range p {
								y, x := (a*m+mh)*p+py, (b*m+mw)*p+px
								v := lut[c][img.Pix[3*(y*img.Width+x)+c]]
								// Permuted multi-index (a, b, mh, mw, c, t, py, px).
								row := ((a*(gw/m)+b)*m+mh)*m + mw
								for t := range T {
									col := ((c*T+t)*p+py)*p + px
									out[row*(3*T*p*p)+col] = v
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

func TestPatchifyLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ p, m, T, w, h int }{
		{16, 2, 2, 64, 96}, {4, 2, 3, 24, 16}, {3, 1, 1, 9, 6}, {2, 3, 2, 12, 18},
	} {
		o := DefaultOptions()
		o.PatchSize, o.MergeSize, o.TemporalPatchSize = c.p, c.m, c.T
		o.Mean = [3]float32{0.1, 0.2, 0.3}
		o.Std = [3]float32{0.9, 0.7, 0.5}
		img := NewRGB(c.w, c.h)
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		got, grid, err := Patchify(img, o)
		if err != nil {
			t.Fatal(err)
		}
		if grid != (Grid{T: 1, H: c.h / c.p, W: c.w / c.p}) {
			t.Errorf("%+v: grid %v", c, grid)
		}
		want := naivePatchify(img, o)
		if len(got) != len(want) {
			t.Fatalf("%+v: %d values, want %d", c, len(got), len(want))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: value %d = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
}

func TestNormalizeLUT(t *testing.T) {
	lut := NormalizeLUT(DefaultOptions())
	for v := range 256 {
		want := (float32(v) - 127.5) / 127.5
		if lut[0][v] != want || lut[2][v] != want {
			t.Fatalf("level %d: %v, want %v", v, lut[0][v], want)
		}
	}
	if lut[0][0] != -1 || lut[0][255] != 1 {
		t.Errorf("ends %v %v", lut[0][0], lut[0][255])
	}
}

func TestPatchifyErrors(t *testing.T) {
	o := DefaultOptions()
	for _, img := range []*RGB{nil, NewRGB(0, 32), NewRGB(32, 48), NewRGB(33, 32), {Width: 32, Height: 32}} {
		if _, _, err := Patchify(img, o); err == nil {
			t.Errorf("Patchify(%dx%d) accepted", img.Width, img.Height)
		}
	}
}

// TestPreprocessTiny checks that tiny and strip images go through without
// panicking and grow to the budget (the reference has no lower bound).
func TestPreprocessTiny(t *testing.T) {
	o := DefaultOptions()
	for _, s := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {1, 200}, {200, 1}, {3, 5}, {31, 31}, {32, 32}, {33, 1}} {
		img := NewRGB(s[0], s[1])
		out, err := Preprocess(img, o)
		if err != nil {
			t.Errorf("%dx%d: %v", s[0], s[1], err)
			continue
		}
		if n := out.ResizedWidth * out.ResizedHeight; n < o.MinPixels {
			t.Errorf("%dx%d resized to %dx%d, below the minimum", s[0], s[1], out.ResizedWidth, out.ResizedHeight)
		}
		if len(out.Pixels) != out.Grid.H*out.Grid.W*o.PatchDim() {
			t.Errorf("%dx%d: %d values for grid %v", s[0], s[1], len(out.Pixels), out.Grid)
		}
	}
	if _, err := Preprocess(NewRGB(201, 1), o); err == nil {
		t.Error("201x1 accepted")
	}
	if _, err := Preprocess(nil, o); err == nil {
		t.Error("nil image accepted")
	}
	// A budget that would upscale past MaxDecodePixels (a lying min_pixels) is refused before
	// anything is allocated; the same budget with a larger limit is fine.
	huge := o
	huge.MinPixels, huge.MaxPixels = 1<<40, 1<<41
	if _, err := Preprocess(NewRGB(32, 32), huge); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "32x32") {
		t.Errorf("min_pixels 2^40: %v, want ErrTooLarge naming the image", err)
	}
	big := o
	big.MinPixels, big.MaxPixels, big.MaxDecodePixels = 1<<20, 1<<21, 1<<21
	if _, err := Preprocess(NewRGB(32, 32), big); err != nil {
		t.Errorf("min_pixels 2^20 under a limit of 2^21: %v", err)
	}
}
