package picture

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// MapOptions is the geometry FeatureMaps needs beside the features.
type MapOptions struct {
	// PatchSize and MergeSize are the tower's (16 and 2 for Qwen3-VL): MergeSize² patches, a
	// merge window, become one token.
	PatchSize, MergeSize int
	// DeepstackBlocks are the blocks after which each DeepStack level is taken
	// (vision.Config.DeepstackVisualIndexes), for the titles; nil leaves them out.
	DeepstackBlocks []int
}

// Map is the PCA colour map of one output tensor of one image.
type Map struct {
	// Name is the tensor's name in the output contract: pooler_output, deepstack_features.K or
	// last_hidden_state.
	Name string
	// Title says what the tensor is ("pooler_output (merged tokens)"), Caption the map's
	// resolution and the variance its components explain.
	Title, Caption string
	// Image has one pixel per token (Grid.W/MergeSize × Grid.H/MergeSize for pooler_output and
	// DeepStack) or per patch (Grid.W × Grid.H for last_hidden_state), at its place on the
	// image: red, green and blue are the first, second and third principal components.
	Image *image.RGBA
	// Explained is the fraction of the tensor's total variance along each component.
	Explained []float64
}

// FeatureMaps returns the PCA colour maps of f, the features of one image (one item, T = 1):
// pooler_output, each DeepStack level, last_hidden_state, in that order. For each tensor the
// top three principal components of its rows (fitPCA: power iteration with deflation, fitted on
// at most 1024 rows) become red, green and blue, each scaled from its 1st percentile (0) to its
// 99th (255), clamped, rounded to nearest; a component explaining less than 1e-9 of the
// variance is a flat 128. Rows are in merge-window order: token r is window
// (r / (W/m), r mod (W/m)) in (row, column); patch row r is patch (mh, mw) = (j / m, j mod m),
// j = r mod m², of window r / m². A video (T > 1) is refused.
func FeatureMaps(f pipeline.Features, o MapOptions) ([]Map, error) {
	if len(f.Items) != 1 {
		return nil, fmt.Errorf("picture: feature maps: want the features of one item, got %d", len(f.Items))
	}
	it := f.Items[0]
	g, m := it.Grid, o.MergeSize
	switch {
	case it.Video || g.T != 1:
		return nil, fmt.Errorf("picture: feature maps: %s is a video (grid %v): feature maps are drawn for images only", it.Name, g)
	case m <= 0 || o.PatchSize <= 0:
		return nil, fmt.Errorf("picture: feature maps: patch size %d and merge size %d must be positive", o.PatchSize, m)
	case g.H <= 0 || g.W <= 0 || g.H%m != 0 || g.W%m != 0:
		return nil, fmt.Errorf("picture: feature maps: %s: grid %v is not a multiple of the merge size %d", it.Name, g, m)
	}
	tokens, patches := g.Patches()/(m*m), g.Patches()
	type tensor struct {
		name, what string
		x          vision.Matrix
		rows       int
		patchLevel bool
	}
	ts := []tensor{{pipeline.PoolerName, "merged tokens", f.Pooler, tokens, false}}
	for k, d := range f.Deepstack {
		what := "DeepStack level " + strconv.Itoa(k)
		if k < len(o.DeepstackBlocks) {
			what += fmt.Sprintf(", after block %d", o.DeepstackBlocks[k])
		}
		ts = append(ts, tensor{pipeline.DeepstackPrefix + strconv.Itoa(k), what, d, tokens, false})
	}
	ts = append(ts, tensor{pipeline.LastHiddenName, "patches, before the merger", f.LastHidden, patches, true})
	var maps []Map
	for _, t := range ts {
		if t.x.Rows != t.rows || t.x.Cols <= 0 || len(t.x.Data) != t.x.Rows*t.x.Cols {
			return nil, fmt.Errorf("picture: feature maps: %s: %s is [%d, %d], want %d rows for grid %v", it.Name, t.name, t.x.Rows, t.x.Cols, t.rows, g)
		}
		for _, v := range t.x.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("picture: feature maps: %s: %s has non-finite values", it.Name, t.name)
			}
		}
		p := fitPCA(t.x.Data, t.x.Rows, t.x.Cols, 3)
		coords := make([][]float64, t.x.Rows)
		for r := range coords {
			coords[r] = p.project(t.x.Data[r*t.x.Cols : (r+1)*t.x.Cols])
		}
		// A component with no variance to speak of (below 1e-9 of the total: rounding noise,
		// as in data of fewer than three dimensions) is not drawn; its channel is 128.
		k := 0
		for _, v := range p.variances {
			if v > 1e-9*p.total {
				k++
			}
		}
		levels := colourLevels(coords, k)
		var img *image.RGBA
		if t.patchLevel {
			img = image.NewRGBA(image.Rect(0, 0, g.W, g.H))
		} else {
			img = image.NewRGBA(image.Rect(0, 0, g.W/m, g.H/m))
		}
		for r := range t.x.Rows {
			x, y := position(r, g.W, m, t.patchLevel)
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = levels[r][0], levels[r][1], levels[r][2], 255
		}
		explained := make([]float64, len(p.variances))
		for j, v := range p.variances {
			if p.total > 0 {
				explained[j] = v / p.total
			}
		}
		pct := ""
		for j, e := range explained {
			if j > 0 {
				pct += "/"
			}
			pct += strconv.Itoa(int(math.Round(100 * e)))
		}
		unit := "tokens"
		if t.patchLevel {
			unit = "patches"
		}
		maps = append(maps, Map{
			Name:      t.name,
			Title:     fmt.Sprintf("%s (%s)", t.name, t.what),
			Caption:   fmt.Sprintf("%d×%d %s; R, G, B = PC 1, 2, 3: %s %% of the variance", img.Bounds().Dx(), img.Bounds().Dy(), unit, pct),
			Image:     img,
			Explained: explained,
		})
	}
	return maps, nil
}

// position is where row r of a tensor lies on an image grid of gw patch columns with merge size
// m: its token's window (x, y), or with patches its patch (x, y).
func position(r, gw, m int, patches bool) (x, y int) {
	if !patches {
		return r % (gw / m), r / (gw / m)
	}
	w, j := r/(m*m), r%(m*m)
	bx, by := w%(gw/m), w/(gw/m)
	return bx*m + j%m, by*m + j/m
}

// colourLevels maps each of the first k coordinates of every row to 0..255: the 1st percentile
// of that coordinate over the rows (sorted[⌊(n−1)/100⌋]) to 0, the 99th (sorted[⌈99(n−1)/100⌉])
// to 255, linearly, clamped and rounded half away from zero; a coordinate that does not vary,
// or is missing, is 128.
func colourLevels(coords [][]float64, k int) [][3]uint8 {
	n := len(coords)
	out := make([][3]uint8, n)
	for j := range 3 {
		if j >= k || n == 0 || j >= len(coords[0]) {
			for r := range out {
				out[r][j] = 128
			}
			continue
		}
		col := make([]float64, n)
		for r := range coords {
			col[r] = coords[r][j]
		}
		sorted := slices.Clone(col)
		slices.Sort(sorted)
		lo, hi := sorted[(n-1)/100], sorted[(99*(n-1)+99)/100]
		for r, v := range col {
			if !(hi > lo) {
				out[r][j] = 128
				continue
			}
			out[r][j] = uint8(math.Round(255 * min(max((v-lo)/(hi-lo), 0), 1)))
		}
	}
	return out
}

// tileSide is the longer side of a tile of Sheet.
const tileSide = 384

// Sheet lays out img (the image as resized) and maps side by side, three tiles to a row, each
// with its title, under the heading title. Every tile shows the whole image area with its
// longer side tileSide pixels (an integer enlargement when the image is smaller): the maps
// nearest-neighbour, so each token or patch is a flat rectangle at its place, the image by
// the average of the pixels each tile pixel covers.
func Sheet(title string, img image.Image, maps []Map) (*image.RGBA, error) {
	if img == nil {
		return nil, fmt.Errorf("picture: sheet: no image")
	}
	rw, rh := img.Bounds().Dx(), img.Bounds().Dy()
	if rw <= 0 || rh <= 0 {
		return nil, fmt.Errorf("picture: sheet: empty image")
	}
	tw, th := tileSize(rw, rh)
	cellW := max(tw, 28*glyphW)
	chars := cellW / glyphW
	type tile struct {
		lines []string
		bold  int // the first bold lines
		draw  func(dst *image.RGBA)
	}
	newTile := func(title, caption string, draw func(dst *image.RGBA)) tile {
		t := tile{lines: wrap(printable(title), chars), draw: draw}
		t.bold = len(t.lines)
		t.lines = append(t.lines, wrap(printable(caption), chars)...)
		return t
	}
	tiles := []tile{newTile("the image as resized", fmt.Sprintf("%d×%d pixels, the processor's", rw, rh), func(dst *image.RGBA) { drawBox(dst, img) })}
	for _, m := range maps {
		tiles = append(tiles, newTile(m.Title, m.Caption, func(dst *image.RGBA) { drawNearest(dst, m.Image) }))
	}
	head := wrap(printable(title), max(3*cellW/glyphW, 40))
	titleLines := 0
	for _, t := range tiles {
		titleLines = max(titleLines, len(t.lines))
	}
	cols := min(3, len(tiles))
	rows := (len(tiles) + cols - 1) / cols
	cellH := titleLines*lineSpacing + 4 + th
	W := margin + cols*(cellW+margin)
	W = max(W, 2*margin+textWidth(head[0], 1))
	H := margin + len(head)*lineSpacing + margin/2 + rows*(cellH+margin)
	if int64(W)*int64(H) > MaxPixels {
		return nil, fmt.Errorf("picture: sheet: %w", ErrTooLarge)
	}
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	y := margin
	for _, l := range head {
		drawText(out, margin, y, l, bold, 1, ink)
		y += lineSpacing
	}
	y += margin / 2
	for i, t := range tiles {
		x0, y0 := margin+(i%cols)*(cellW+margin), y+(i/cols)*(cellH+margin)
		drawLines(out, x0, y0, t.lines, t.bold)
		ty := y0 + titleLines*lineSpacing + 4
		t.draw(out.SubImage(image.Rect(x0, ty, x0+tw, ty+th)).(*image.RGBA))
	}
	return out, nil
}

// tileSize is the size of a tile of an rw×rh image: its longer side tileSide pixels, an
// integer enlargement when the image is smaller.
func tileSize(rw, rh int) (tw, th int) {
	long := max(rw, rh)
	if long <= tileSide {
		k := tileSide / long
		return rw * k, rh * k
	}
	return max(rw*tileSide/long, 1), max(rh*tileSide/long, 1)
}

// Features writes, as PNG, the Sheet of f's FeatureMaps beside img, the image as resized
// (imageproc.Resized, or imageproc.Unpatchify of the item's pixels).
func Features(w io.Writer, img image.Image, f pipeline.Features, o MapOptions) error {
	maps, err := FeatureMaps(f, o)
	if err != nil {
		return err
	}
	if g := f.Items[0].Grid; img == nil || img.Bounds().Dx() != g.W*o.PatchSize || img.Bounds().Dy() != g.H*o.PatchSize {
		return fmt.Errorf("picture: feature maps: %s: the image is not the %dx%d of grid %v", f.Items[0].Name, g.W*o.PatchSize, g.H*o.PatchSize, g)
	}
	title := fmt.Sprintf("%s: PCA of the tower's outputs, top 3 components as R, G, B (each from its 1st to its 99th percentile)", f.Items[0].Name)
	sheet, err := Sheet(title, img, maps)
	if err != nil {
		return err
	}
	return encodePNG(w, sheet)
}

// drawNearest fills dst with src scaled to dst's size, nearest neighbour: dst pixel (x, y)
// shows src pixel (x·sw/dw, y·sh/dh).
func drawNearest(dst *image.RGBA, src *image.RGBA) {
	b, sb := dst.Bounds(), src.Bounds()
	for y := 0; y < b.Dy(); y++ {
		sy := y * sb.Dy() / b.Dy()
		for x := 0; x < b.Dx(); x++ {
			sx := x * sb.Dx() / b.Dx()
			copy(dst.Pix[dst.PixOffset(b.Min.X+x, b.Min.Y+y):][:4], src.Pix[src.PixOffset(sb.Min.X+sx, sb.Min.Y+sy):][:4])
		}
	}
}

// drawBox fills dst with src scaled to dst's size: dst pixel (x, y) is the rounded average of
// the src pixels [x·sw/dw, max((x+1)·sw/dw, that+1)) × the same for y (one pixel when
// enlarging).
func drawBox(dst *image.RGBA, src image.Image) {
	b, sb := dst.Bounds(), src.Bounds()
	for y := 0; y < b.Dy(); y++ {
		y0 := y * sb.Dy() / b.Dy()
		y1 := max((y+1)*sb.Dy()/b.Dy(), y0+1)
		for x := 0; x < b.Dx(); x++ {
			x0 := x * sb.Dx() / b.Dx()
			x1 := max((x+1)*sb.Dx()/b.Dx(), x0+1)
			var r, g, bl, n uint32
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := color.RGBAModel.Convert(src.At(sb.Min.X+sx, sb.Min.Y+sy)).(color.RGBA)
					r, g, bl, n = r+uint32(c.R), g+uint32(c.G), bl+uint32(c.B), n+1
				}
			}
			i := dst.PixOffset(b.Min.X+x, b.Min.Y+y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = uint8((r+n/2)/n), uint8((g+n/2)/n), uint8((bl+n/2)/n), 255
		}
	}
}
