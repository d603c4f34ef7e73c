package picture

import (
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"strconv"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// AttentionPanel is one image of an attention picture.
type AttentionPanel struct {
	// Name is the image's name (its file), the panel's title.
	Name string
	// Image is the image as resized, Grid.W·PatchSize × Grid.H·PatchSize
	// (imageproc.Unpatchify of its pixels).
	Image image.Image
	// Grid is its patch grid (T = 1: a video is refused).
	Grid vision.Grid
	// Weights are the attention each merged token received, one per token in merge-window
	// order (pooler_output's rows, the order of the image's pads in the prompt): token r is
	// window (r mod (W/m), r / (W/m)) in (column, row). Finite, not negative.
	Weights []float64
}

// AttentionOptions are the geometry and the text of an attention picture.
type AttentionOptions struct {
	MapOptions
	// Title is the heading; Answer is the answer's text, shown under it cut to
	// AnswerChars characters ("..." added).
	Title, Answer string
}

// AnswerChars is the most characters of the answer an attention picture shows.
const AnswerChars = 240

// heatAlpha is the opacity of the heat colour over the image.
const heatAlpha = 150

// Attention writes AttentionImage as PNG to w.
func Attention(w io.Writer, panels []AttentionPanel, o AttentionOptions) error {
	m, err := AttentionImage(panels, o)
	if err != nil {
		return err
	}
	return encodePNG(w, m)
}

// AttentionImage draws, under o.Title and the answer, one panel per image, three to a row:
// the image as resized in a tile as Sheet's (longer side tileSide pixels, box-averaged), with
// every merged token's window covered by Heat[level] at opacity heatAlpha (150/255), level =
// round(255·weight / the panel's largest weight) (all 0 when every weight is 0): each panel is
// normalised on its own, and its caption gives the largest weight (the top colour) and the
// share of the attention its tokens hold. A colour bar with its scale ends the picture.
func AttentionImage(panels []AttentionPanel, o AttentionOptions) (*image.RGBA, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("picture: attention: no image")
	}
	p, m := o.PatchSize, o.MergeSize
	if p <= 0 || m <= 0 {
		return nil, fmt.Errorf("picture: attention: patch size %d and merge size %d must be positive", p, m)
	}
	type cell struct {
		lines    []string
		bold     int
		tw, th   int
		levels   []uint8 // per window, row-major (x + y·W/m)
		tx, ty   int     // windows across and down
		img      image.Image
		maxW     float64
		shareSum float64
	}
	cells := make([]cell, len(panels))
	cellW, tileH := 28*glyphW, 0
	for i, pn := range panels {
		g := pn.Grid
		switch {
		case g.T != 1:
			return nil, fmt.Errorf("picture: attention: %s: grid %v is a video's: attention maps are drawn for images only", pn.Name, g)
		case g.H <= 0 || g.W <= 0 || g.H%m != 0 || g.W%m != 0:
			return nil, fmt.Errorf("picture: attention: %s: grid %v is not a multiple of the merge size %d", pn.Name, g, m)
		case len(pn.Weights) != g.H*g.W/(m*m):
			return nil, fmt.Errorf("picture: attention: %s: %d weights for the %d tokens of grid %v", pn.Name, len(pn.Weights), g.H*g.W/(m*m), g)
		case pn.Image == nil || pn.Image.Bounds().Dx() != g.W*p || pn.Image.Bounds().Dy() != g.H*p:
			return nil, fmt.Errorf("picture: attention: %s: the image is not the %dx%d of grid %v", pn.Name, g.W*p, g.H*p, g)
		}
		c := cell{tx: g.W / m, ty: g.H / m, img: pn.Image}
		for _, w := range pn.Weights {
			if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
				return nil, fmt.Errorf("picture: attention: %s: a weight %v (want finite, not negative)", pn.Name, w)
			}
			c.maxW = max(c.maxW, w)
			c.shareSum += w
		}
		c.levels = make([]uint8, c.tx*c.ty)
		for r, w := range pn.Weights {
			x, y := position(r, g.W, m, false)
			if c.maxW > 0 {
				c.levels[y*c.tx+x] = uint8(math.Round(255 * w / c.maxW))
			}
		}
		c.tw, c.th = tileSize(g.W*p, g.H*p)
		cellW, tileH = max(cellW, c.tw), max(tileH, c.th)
		cells[i] = c
	}
	chars := cellW / glyphW
	titleLines := 0
	for i := range cells {
		c := &cells[i]
		c.lines = wrap(printable(panels[i].Name), chars)
		c.bold = len(c.lines)
		caption := fmt.Sprintf("%d tokens (%d×%d) holding %s%% of the attention; top colour = %s", len(panels[i].Weights), c.tx, c.ty,
			strconv.FormatFloat(100*c.shareSum, 'f', 1, 64), strconv.FormatFloat(c.maxW, 'g', 3, 64))
		if c.maxW == 0 {
			caption = fmt.Sprintf("%d tokens (%d×%d): no attention at all", len(panels[i].Weights), c.tx, c.ty)
		}
		c.lines = append(c.lines, wrap(printable(caption), chars)...)
		titleLines = max(titleLines, len(c.lines))
	}
	cols := min(3, len(cells))
	rows := (len(cells) + cols - 1) / cols
	width := max(margin+cols*(cellW+margin), 2*margin+256+2*glyphW*8)
	textChars := (width - 2*margin) / glyphW
	head := wrap(printable(o.Title), textChars)
	answer := []rune(o.Answer)
	if len(answer) > AnswerChars {
		answer = append(answer[:AnswerChars], []rune("...")...)
	}
	ans := wrap(printable("Answer: "+string(answer)), textChars)
	cellH := titleLines*lineSpacing + 4 + tileH
	legend := "colour = weight / the image's largest (Oklab ramp, lightness rising), over the image at 150/255"
	legendLines := wrap(printable(legend), textChars)
	H := margin + (len(head)+len(ans))*lineSpacing + margin/2 + rows*(cellH+margin) + 12 + 4 + (1+len(legendLines))*lineSpacing + margin
	if int64(width)*int64(H) > MaxPixels {
		return nil, fmt.Errorf("picture: attention: %w", ErrTooLarge)
	}
	out := image.NewRGBA(image.Rect(0, 0, width, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	y := margin
	for _, l := range head {
		drawText(out, margin, y, l, bold, 1, ink)
		y += lineSpacing
	}
	for _, l := range ans {
		drawText(out, margin, y, l, regular, 1, ink)
		y += lineSpacing
	}
	y += margin / 2
	for i, c := range cells {
		x0, y0 := margin+(i%cols)*(cellW+margin), y+(i/cols)*(cellH+margin)
		drawLines(out, x0, y0, c.lines, c.bold)
		ty := y0 + titleLines*lineSpacing + 4
		tile := out.SubImage(image.Rect(x0, ty, x0+c.tw, ty+c.th)).(*image.RGBA)
		drawBox(tile, c.img)
		drawHeat(tile, c.levels, c.tx, c.ty)
	}
	// The colour bar: level i in pixel column i, 0 and "max" at its ends.
	y += rows * (cellH + margin)
	for i := range 256 {
		fill(out, image.Rect(margin+i, y, margin+i+1, y+12), Heat[i], 255)
	}
	y += 12 + 4
	drawText(out, margin, y, "0", regular, 1, muted)
	drawText(out, margin+256-textWidth("max", 1), y, "max", regular, 1, muted)
	y += lineSpacing
	for _, l := range legendLines {
		drawText(out, margin, y, l, regular, 1, muted)
		y += lineSpacing
	}
	return out, nil
}

// drawHeat blends Heat[level] at heatAlpha over dst, nearest neighbour: dst pixel (x, y) takes
// the level of window (x·tx/dw, y·ty/dh) of levels [ty, tx].
func drawHeat(dst *image.RGBA, levels []uint8, tx, ty int) {
	b := dst.Bounds()
	for y := 0; y < b.Dy(); y++ {
		wy := y * ty / b.Dy()
		p := dst.Pix[dst.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			c := Heat[levels[wy*tx+x*tx/b.Dx()]]
			i := 4 * x
			p[i], p[i+1], p[i+2] = blend(c.R, p[i], heatAlpha), blend(c.G, p[i+1], heatAlpha), blend(c.B, p[i+2], heatAlpha)
		}
	}
}

// AnswerPanels are the panels of an answer's attention, one per image of items (the items
// given to Ask, in order; a video among them is refused): the image as resized, read back
// from the item's pixels (imageproc.Unpatchify with opts, the checkpoint's image options),
// and rec.ImageWeights(k, tokens) for the k-th image (tokens nil: every generated token).
func AnswerPanels(rec *pipeline.AttentionRecord, items []pipeline.Item, tokens []int, opts imageproc.Options) ([]AttentionPanel, error) {
	var panels []AttentionPanel
	for _, it := range items {
		if it.Video || it.Grid.T != 1 {
			return nil, fmt.Errorf("picture: attention: %s is a video: attention maps are drawn for images only", it.Name)
		}
		img, err := imageproc.Unpatchify(it.Pixels, imageproc.Grid(it.Grid), 0, opts)
		if err != nil {
			return nil, fmt.Errorf("picture: attention: %s: %w", it.Name, err)
		}
		w, err := rec.ImageWeights(len(panels), tokens)
		if err != nil {
			return nil, fmt.Errorf("picture: attention: %s: %w", it.Name, err)
		}
		panels = append(panels, AttentionPanel{Name: it.Name, Image: img, Grid: it.Grid, Weights: w})
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("picture: attention: no image among the items")
	}
	return panels, nil
}
