package picture

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// greyImage is a flat grey w×h image.
func greyImage(w, h int) *imageproc.RGB {
	img := imageproc.NewRGB(w, h)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	return img
}

// TestAttentionPlacement: with all the weight on one token r (and half of it on another,
// r2) of a flat grey image, the PNG read back has exactly one block of the top colour blended
// over the grey, the size of a window in the tile (tile / windows) and at token r's window in
// merge-window order (column r mod (W/2), row r / (W/2)), one block of level 128 at r2's, and
// the level-0 blend everywhere else in the tile; for a wide and a tall grid.
func TestAttentionPlacement(t *testing.T) {
	for _, c := range []struct{ gh, gw, r, r2 int }{
		{4, 8, 5, 2},  // 2×4 windows, tile 384×192: token 5 is window (1, 1)
		{8, 4, 6, 1},  // 4×2 windows, tile 192×384: token 6 is window (0, 3)
		{6, 10, 9, 0}, // 3×5 windows, tile 320×192: token 9 is window (4, 1)
	} {
		tx, ty := c.gw/2, c.gh/2
		w := make([]float64, tx*ty)
		w[c.r], w[c.r2] = 0.02, 0.01
		pn := AttentionPanel{Name: "grey", Image: greyImage(16*c.gw, 16*c.gh), Grid: vision.Grid{T: 1, H: c.gh, W: c.gw}, Weights: w}
		var buf bytes.Buffer
		if err := Attention(&buf, []AttentionPanel{pn}, AttentionOptions{MapOptions: MapOptions{PatchSize: 16, MergeSize: 2}, Title: "t", Answer: "a"}); err != nil {
			t.Fatal(err)
		}
		m := decodePNG(t, buf.Bytes())
		over := func(c color.RGBA) color.RGBA {
			return color.RGBA{blend(c.R, 128, heatAlpha), blend(c.G, 128, heatAlpha), blend(c.B, 128, heatAlpha), 255}
		}
		type box struct {
			r image.Rectangle
			n int
		}
		found := map[int]*box{}
		levels := map[color.RGBA]int{over(Heat[0]): 0, over(Heat[128]): 128, over(Heat[255]): 255}
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				l, ok := levels[rgbaAt(m, x, y)]
				if !ok {
					continue
				}
				if found[l] == nil {
					found[l] = &box{r: image.Rect(x, y, x+1, y+1)}
				}
				found[l].r = found[l].r.Union(image.Rect(x, y, x+1, y+1))
				found[l].n++
			}
		}
		if len(found) != 3 {
			t.Fatalf("grid %dx%d: levels found %v", c.gw, c.gh, found)
		}
		tile := found[0].r
		tw, th := tileSize(16*c.gw, 16*c.gh)
		if tile.Dx() != tw || tile.Dy() != th {
			t.Fatalf("grid %dx%d: the tile is %v, want %dx%d", c.gw, c.gh, tile, tw, th)
		}
		block := func(r int) image.Rectangle {
			x, y := r%tx, r/tx
			return image.Rect(x*tw/tx, y*th/ty, (x+1)*tw/tx, (y+1)*th/ty).Add(tile.Min)
		}
		for _, k := range []struct{ level, r int }{{255, c.r}, {128, c.r2}} {
			want := block(k.r)
			if got := found[k.level]; got.r != want || got.n != want.Dx()*want.Dy() {
				t.Errorf("grid %dx%d: level %d covers %v (%d pixels), want token %d's block %v", c.gw, c.gh, k.level, got.r, got.n, k.r, want)
			}
		}
		if want := tw*th - block(c.r).Dx()*block(c.r).Dy() - block(c.r2).Dx()*block(c.r2).Dy(); found[0].n != want {
			t.Errorf("grid %dx%d: %d pixels of level 0, want %d", c.gw, c.gh, found[0].n, want)
		}
	}
}

// TestHeatRamp: the colour map's luminance rises strictly from level to level, from dark to
// light, so a brighter window always means more attention.
func TestHeatRamp(t *testing.T) {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	lum := func(c color.RGBA) float64 { return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B) }
	for i := 1; i < len(Heat); i++ {
		if lum(Heat[i]) <= lum(Heat[i-1]) {
			t.Errorf("level %d %v is not lighter than level %d %v", i, Heat[i], i-1, Heat[i-1])
		}
	}
	if lum(Heat[0]) > 0.03 || lum(Heat[255]) < 0.6 {
		t.Errorf("the ramp runs from luminance %.3f to %.3f", lum(Heat[0]), lum(Heat[255]))
	}
}

func TestAttentionErrors(t *testing.T) {
	ok := func() AttentionPanel {
		return AttentionPanel{Name: "img", Image: greyImage(64, 32), Grid: vision.Grid{T: 1, H: 2, W: 4}, Weights: []float64{0, 1}}
	}
	o := AttentionOptions{MapOptions: MapOptions{PatchSize: 16, MergeSize: 2}}
	for _, c := range []struct {
		name   string
		change func(*AttentionPanel)
		want   string
	}{
		{"video", func(p *AttentionPanel) { p.Grid.T = 2 }, "images only"},
		{"weights", func(p *AttentionPanel) { p.Weights = []float64{1} }, "1 weights for the 2 tokens"},
		{"negative", func(p *AttentionPanel) { p.Weights[0] = -1 }, "not negative"},
		{"NaN", func(p *AttentionPanel) { p.Weights[1] = math.NaN() }, "finite"},
		{"image size", func(p *AttentionPanel) { p.Image = greyImage(60, 32) }, "not the 64x32"},
		{"no image", func(p *AttentionPanel) { p.Image = nil }, "not the 64x32"},
		{"odd grid", func(p *AttentionPanel) { p.Grid.W = 3 }, "multiple of the merge size"},
	} {
		p := ok()
		c.change(&p)
		_, err := AttentionImage([]AttentionPanel{p}, o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "img") {
			t.Errorf("%s: %v, want an error naming img and saying %q", c.name, err, c.want)
		}
	}
	if _, err := AttentionImage(nil, o); err == nil {
		t.Error("no panels: no error")
	}
	if _, err := AttentionImage([]AttentionPanel{ok()}, AttentionOptions{}); err == nil {
		t.Error("no patch size: no error")
	}
	if _, err := AttentionImage([]AttentionPanel{ok(), ok(), ok(), ok()}, o); err != nil {
		t.Errorf("four panels: %v", err)
	}
}
