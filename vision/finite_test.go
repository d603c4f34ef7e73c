package vision

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestEncodeNonFinitePixels: a NaN or infinite pixel value is refused before any work, with an
// error naming the item, the patch row within it and the column.
func TestEncodeNonFinitePixels(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	grids := []Grid{{1, 2, 4}, {2, 2, 2}, {1, 4, 2}} // rows 0–7, 8–15, 16–23
	pd := cfg.PatchDim()
	for _, c := range []struct {
		row, col int
		v        float32
		want     string
	}{
		{0, 0, float32(math.NaN()), "item 0: patch row 0 (row 0 of the pixel values), column 0: NaN"},
		{11, 17, float32(math.Inf(1)), "item 1: patch row 3 (row 11 of the pixel values), column 17: +Inf"},
		{23, 1535, float32(math.Inf(-1)), "item 2: patch row 7 (row 23 of the pixel values), column 1535: -Inf"},
		{16, 5, float32(math.NaN()), "item 2: patch row 0 (row 16"},
	} {
		pixels := make([]float32, 24*pd)
		pixels[c.row*pd+c.col] = c.v
		_, err := m.Encode(context.Background(), pixels, grids)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pixel [%d, %d] = %v: Encode error %v, want it to contain %q", c.row, c.col, c.v, err, c.want)
		}
	}
}

// TestOutputNonFinite: Output.NonFinite is 0 for an ordinary encode, and counts every NaN and
// infinity of the outputs when finite but huge pixels overflow inside the tower.
func TestOutputNonFinite(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	grids := []Grid{{1, 2, 4}, {1, 2, 2}}
	pixels := make([]float32, 12*cfg.PatchDim())
	for i := range pixels {
		pixels[i] = float32(math.Sin(float64(i)))
	}
	out, err := m.Encode(context.Background(), pixels, grids)
	if err != nil {
		t.Fatal(err)
	}
	if out.NonFinite != 0 {
		t.Errorf("ordinary pixels: NonFinite = %d, want 0", out.NonFinite)
	}
	for i := range pixels[:cfg.PatchDim()] {
		pixels[i] = 3e38 // finite, but the patch embedding's sums overflow
	}
	out, err = m.Encode(context.Background(), pixels, grids)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, x := range append([]Matrix{out.LastHidden, out.Pooler}, out.Deepstack...) {
		for _, v := range x.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				want++
			}
		}
	}
	if want == 0 || out.NonFinite != want {
		t.Errorf("huge pixels: NonFinite = %d, counted %d; want them equal and positive", out.NonFinite, want)
	}
}
