package picture

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// positionFeatures is the features of one image of grid (1, gh, gw), merge 2, whose rows say
// where they are: a row for the thing at (x, y) is [10x, y, 0], so the first principal
// component is x and the second y. The rows are laid out in merge-window order as Patchify
// lays out patches (block row, block column, row in block, column in block), written here as
// the nested loops, independently of position().
func positionFeatures(gh, gw int) pipeline.Features {
	var pooler, hidden []float32
	for by := 0; by < gh/2; by++ {
		for bx := 0; bx < gw/2; bx++ {
			pooler = append(pooler, float32(10*bx), float32(by), 0)
			for my := range 2 {
				for mx := range 2 {
					hidden = append(hidden, float32(10*(2*bx+mx)), float32(2*by+my), 0)
				}
			}
		}
	}
	tokens := gh * gw / 4
	return pipeline.Features{
		Items:      []pipeline.Item{{Name: "positions", Grid: vision.Grid{T: 1, H: gh, W: gw}}},
		Pooler:     vision.Matrix{Rows: tokens, Cols: 3, Data: pooler},
		Deepstack:  []vision.Matrix{{Rows: tokens, Cols: 3, Data: pooler}},
		LastHidden: vision.Matrix{Rows: gh * gw, Cols: 3, Data: hidden},
	}
}

// TestFeatureMapsPositions: each map pixel gets the row of its own token or patch: red rises
// with x as round(255·x/(w−1)), green with y, blue (no variance) is 128; where x does not vary
// (one column) y is the first component and red; for a wide and a tall grid. The sizes keep
// 255·x/(w−1) off halves.
func TestFeatureMapsPositions(t *testing.T) {
	for _, g := range []struct{ h, w int }{{4, 8}, {8, 2}, {2, 2}, {4, 12}} {
		maps, err := FeatureMaps(positionFeatures(g.h, g.w), MapOptions{PatchSize: 16, MergeSize: 2, DeepstackBlocks: []int{3}})
		if err != nil {
			t.Fatal(err)
		}
		names := []string{pipeline.PoolerName, pipeline.DeepstackPrefix + "0", pipeline.LastHiddenName}
		if len(maps) != len(names) {
			t.Fatalf("%d maps, want %d", len(maps), len(names))
		}
		for i, m := range maps {
			if m.Name != names[i] {
				t.Errorf("map %d is %s, want %s", i, m.Name, names[i])
			}
			w, h := g.w/2, g.h/2
			if m.Name == pipeline.LastHiddenName {
				w, h = g.w, g.h
			}
			if b := m.Image.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Fatalf("%s: %v, want %dx%d", m.Name, b, w, h)
			}
			level := func(v, n int) uint8 { return uint8(math.Round(255 * float64(v) / float64(n-1))) }
			for y := range h {
				for x := range w {
					want := [3]uint8{128, 128, 128}
					c := 0
					if w > 1 {
						want[c] = level(x, w)
						c++
					}
					if h > 1 {
						want[c] = level(y, h)
					}
					got := m.Image.RGBAAt(x, y)
					if [3]uint8{got.R, got.G, got.B} != want || got.A != 255 {
						t.Errorf("grid %dx%d, %s at (%d, %d): %v, want %v", g.w, g.h, m.Name, x, y, got, want)
					}
				}
			}
			if m.Name == pipeline.DeepstackPrefix+"0" && !strings.Contains(m.Title, "after block 3") {
				t.Errorf("title %q lacks the block", m.Title)
			}
			if w > 1 && m.Explained[0] < m.Explained[1] {
				t.Errorf("%s: explained %v not decreasing", m.Name, m.Explained)
			}
		}
	}
}

// TestFeatureMapsErrors: video, several items, rows that do not match the grid, non-finite
// values and a bad geometry are errors naming the problem.
func TestFeatureMapsErrors(t *testing.T) {
	mo := MapOptions{PatchSize: 16, MergeSize: 2}
	video := positionFeatures(4, 4)
	video.Items[0].Video, video.Items[0].Grid.T = true, 2
	two := positionFeatures(4, 4)
	two.Items = append(two.Items, two.Items[0])
	short := positionFeatures(4, 4)
	short.Pooler.Rows--
	short.Pooler.Data = short.Pooler.Data[:short.Pooler.Rows*3]
	nan := positionFeatures(4, 4)
	nan.LastHidden.Data = append([]float32(nil), nan.LastHidden.Data...)
	nan.LastHidden.Data[5] = float32(math.NaN())
	odd := positionFeatures(4, 4)
	odd.Items[0].Grid.W = 3
	for _, tc := range []struct {
		name string
		f    pipeline.Features
		mo   MapOptions
		want string
	}{
		{"video", video, mo, "video"},
		{"two items", two, mo, "one item"},
		{"short", short, mo, "pooler_output is [3, 3], want 4 rows"},
		{"NaN", nan, mo, "non-finite"},
		{"odd grid", odd, mo, "multiple of the merge size"},
		{"no geometry", positionFeatures(4, 4), MapOptions{}, "must be positive"},
	} {
		if _, err := FeatureMaps(tc.f, tc.mo); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// Features checks the image against the grid.
	var b bytes.Buffer
	if err := Features(&b, patchColours(32, 32), positionFeatures(4, 4), mo); err == nil || !strings.Contains(err.Error(), "64x64") {
		t.Errorf("an image of the wrong size: %v", err)
	}
	if err := Features(&b, nil, positionFeatures(4, 4), mo); err == nil {
		t.Error("no image accepted")
	}
}
