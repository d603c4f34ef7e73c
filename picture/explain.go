package picture

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strconv"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// ErrTooLarge is returned (wrapped) when a picture would exceed MaxPixels.
var ErrTooLarge = errors.New("picture too large")

// MaxPixels bounds the area of any picture drawn (33.5 million pixels, 134 MB as RGBA): the
// largest resized image of the released budgets (4096×4096) with its panel fits.
const MaxPixels = 1 << 25

// The overlay's colours and geometry (see Explain).
var (
	// PatchLine is blended with opacity PatchAlpha over the one pixel column (row) that starts
	// each patch column (row) inside a merge window.
	PatchLine  = color.RGBA{0, 220, 255, 255}
	PatchAlpha = uint8(150)
	// WindowLine is drawn opaque over the two pixel columns (rows) on either side of every
	// merge-window boundary b (b−1 and b), the image's edges included.
	WindowLine = color.RGBA{255, 170, 0, 255}

	background = color.RGBA{250, 250, 248, 255}
	ink        = color.RGBA{24, 24, 28, 255}
	muted      = color.RGBA{96, 96, 104, 255}
	labelBox   = color.RGBA{0, 0, 0, 255}
	labelInk   = color.RGBA{255, 255, 255, 255}
)

const (
	margin      = 16
	labelAlpha  = 170 // the opacity of the box behind a token number
	lineSpacing = glyphH + 2
)

// Scale is the integer factor Explain enlarges the resized image by: ⌊768 / longer side⌋,
// clamped to [1, 8], so a tiny image is not a postage stamp and a large one stays 1:1 (the
// processor's pixels, never resampled).
func Scale(width, height int) int { return min(max(768/max(width, height, 1), 1), 8) }

// Explain writes ExplainImage as PNG to w.
func Explain(w io.Writer, img image.Image, e *pipeline.Explanation) error {
	m, err := ExplainImage(img, e)
	if err != nil {
		return err
	}
	return encodePNG(w, m)
}

// ExplainImage draws img — the image as the processor resized it, e.ResizedWidth ×
// e.ResizedHeight (imageproc.Resized), or nil for a plain grey stand-in of that size — enlarged
// by Scale, with the overlay, and beside it (below it when it is more than twice as wide as
// high) a panel with e's text: Intro, the module table, Outro.
//
// The overlay: a line of PatchLine at every patch boundary inside a merge window (the first
// pixel column or row of the patch), two lines of WindowLine at every merge-window boundary
// (the last pixel of one window and the first of the next; at the edges the outermost pixel,
// the other falling outside the image), and each window's token number, its row in
// pooler_output (windows numbered row by row; that is the merge-window order of the rows), in
// its top-left corner, white on a dark box. The number is drawn in the 8×16 face at the
// largest scale up to 4 that fits in the window; if even scale 1 does not fit, in the 3×5
// digit font (scale 2 or 1); if that does not fit either, numbers are left out and the
// caption says so.
func ExplainImage(img image.Image, e *pipeline.Explanation) (*image.RGBA, error) {
	if e == nil {
		return nil, fmt.Errorf("picture: explain: no explanation")
	}
	rw, rh := e.ResizedWidth, e.ResizedHeight
	p, m := e.Image.PatchSize, e.Image.MergeSize
	if rw <= 0 || rh <= 0 || p <= 0 || m <= 0 || rw%(p*m) != 0 || rh%(p*m) != 0 {
		return nil, fmt.Errorf("picture: explain: resized size %dx%d is not a multiple of patch %d × merge %d", rw, rh, p, m)
	}
	if img != nil && (img.Bounds().Dx() != rw || img.Bounds().Dy() != rh) {
		return nil, fmt.Errorf("picture: explain: the image is %dx%d, the explanation's resized size %dx%d", img.Bounds().Dx(), img.Bounds().Dy(), rw, rh)
	}
	s := Scale(rw, rh)
	dw, dh := rw*s, rh*s
	if int64(dw)*int64(dh) > MaxPixels {
		return nil, fmt.Errorf("picture: explain: a %dx%d image: %w (limit %d pixels)", rw, rh, ErrTooLarge, MaxPixels)
	}

	// The panel's text, in character cells.
	table := e.Table()
	widths := make([]int, len(table[0]))
	for _, r := range table {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(printable(c))))
		}
	}
	tableChars := 0
	for _, w := range widths {
		tableChars += w + 2
	}
	panelChars := max(tableChars, 64)
	var intro, outro []string
	for _, l := range e.Intro() {
		intro = append(intro, wrap(printable(l), panelChars)...)
	}
	for _, l := range e.Outro() {
		outro = append(outro, wrap(printable(l), panelChars)...)
	}
	panelW := panelChars * glyphW
	panelH := (len(intro) + 1 + len(table) + 1 + len(outro)) * lineSpacing

	// The caption above the image and the legend below it.
	label := labelStyle(m*p*s, e.Tokens)
	caption := fmt.Sprintf("As resized: %d×%d px (×%d here), %d×%d patches of %d px, %d tokens = %d×%d windows of %d×%d patches",
		rw, rh, s, e.Grid.W, e.Grid.H, p, e.Tokens, e.Grid.W/m, e.Grid.H/m, m, m)
	if label.kind == noLabels {
		caption += "; windows too small to number"
	}
	capChars := max(dw/glyphW, 40)
	capLines := wrap(printable(caption), capChars)
	legend := []string{"patch boundary", "merge window = one token (numbered in row order)"}
	leftW := max(dw, capChars*glyphW)
	for _, l := range legend {
		leftW = max(leftW, 30+textWidth(l, 1))
	}
	leftH := len(capLines)*lineSpacing + 6 + dh + 8 + len(legend)*lineSpacing

	below := dw > 2*dh
	var W, H, px, py int
	if below {
		W = 2*margin + max(leftW, panelW)
		H = 3*margin + leftH + panelH
		px, py = margin, 2*margin+leftH
	} else {
		W = 3*margin + leftW + panelW
		H = 2*margin + max(leftH, panelH)
		px, py = 2*margin+leftW, margin
	}
	if int64(W)*int64(H) > MaxPixels {
		return nil, fmt.Errorf("picture: explain: a %dx%d image: %w (limit %d pixels)", rw, rh, ErrTooLarge, MaxPixels)
	}
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)

	y := margin
	for _, l := range capLines {
		drawText(out, margin, y, l, bold, 1, ink)
		y += lineSpacing
	}
	y += 6
	origin := image.Pt(margin, y)
	pic := out.SubImage(image.Rect(origin.X, origin.Y, origin.X+dw, origin.Y+dh)).(*image.RGBA)
	drawScaled(pic, img, s)
	overlay(pic, e.Grid.W, e.Grid.H, p*s, m, label)
	// The frame: the outer halves of the edge windows' lines.
	frame := out.SubImage(image.Rect(origin.X-1, origin.Y-1, origin.X+dw+1, origin.Y+dh+1)).(*image.RGBA)
	strokeRect(frame, WindowLine)
	y += dh + 8
	swatches := []struct {
		c color.RGBA
		a uint8
	}{{PatchLine, PatchAlpha}, {WindowLine, 255}}
	for i, l := range legend {
		fill(out, image.Rect(margin, y+4, margin+24, y+12), swatches[i].c, swatches[i].a)
		drawText(out, margin+30, y, printable(l), regular, 1, muted)
		y += lineSpacing
	}

	// The panel.
	y = py
	for i, l := range intro {
		face := regular
		if i == 0 {
			face = bold
		}
		drawText(out, px, y, l, face, 1, ink)
		y += lineSpacing
	}
	y += lineSpacing
	for ri, r := range table {
		face := regular
		if ri == 0 {
			face = bold
		}
		x := px
		for i, c := range r {
			c = printable(c)
			cx := x
			if i > 0 { // numbers and shapes right-aligned, the module name left
				cx = x + (widths[i]-len([]rune(c)))*glyphW
			}
			drawText(out, cx, y, c, face, 1, ink)
			x += (widths[i] + 2) * glyphW
		}
		y += lineSpacing
	}
	y += lineSpacing
	for _, l := range outro {
		drawText(out, px, y, l, regular, 1, ink)
		y += lineSpacing
	}
	return out, nil
}

// drawScaled copies img into dst (whose size is img's × s) with every pixel an s×s square; a
// nil img is a flat grey.
func drawScaled(dst *image.RGBA, img image.Image, s int) {
	b := dst.Bounds()
	if img == nil {
		draw.Draw(dst, b, image.NewUniform(color.RGBA{160, 160, 160, 255}), image.Point{}, draw.Src)
		return
	}
	ib := img.Bounds()
	rgb, packed := img.(*imageproc.RGB) // the usual case, read directly
	for y := 0; y < b.Dy(); y++ {
		row := dst.Pix[dst.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			if packed {
				i := 3 * ((y/s)*rgb.Width + x/s)
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = rgb.Pix[i], rgb.Pix[i+1], rgb.Pix[i+2], 255
				continue
			}
			c := color.RGBAModel.Convert(img.At(ib.Min.X+x/s, ib.Min.Y+y/s)).(color.RGBA)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, 255
		}
	}
}

// overlay draws the patch lines, the window lines and the token numbers over dst, an image of
// gw×gh patches of ps pixels each, m×m patches per window.
func overlay(dst *image.RGBA, gw, gh, ps, m int, label labelSpec) {
	b := dst.Bounds()
	col := func(x int) image.Rectangle { return image.Rect(b.Min.X+x, b.Min.Y, b.Min.X+x+1, b.Max.Y) }
	row := func(y int) image.Rectangle { return image.Rect(b.Min.X, b.Min.Y+y, b.Max.X, b.Min.Y+y+1) }
	for i := 1; i < gw; i++ {
		if i%m != 0 {
			fill(dst, col(i*ps), PatchLine, PatchAlpha)
		}
	}
	for i := 1; i < gh; i++ {
		if i%m != 0 {
			fill(dst, row(i*ps), PatchLine, PatchAlpha)
		}
	}
	for i := 0; i <= gw; i += m {
		fill(dst, col(i*ps-1), WindowLine, 255)
		fill(dst, col(i*ps), WindowLine, 255)
	}
	for i := 0; i <= gh; i += m {
		fill(dst, row(i*ps-1), WindowLine, 255)
		fill(dst, row(i*ps), WindowLine, 255)
	}
	if label.kind == noLabels {
		return
	}
	ws := ps * m
	for wy := 0; wy < gh/m; wy++ {
		for wx := 0; wx < gw/m; wx++ {
			n := strconv.Itoa(wy*(gw/m) + wx)
			x, y := b.Min.X+wx*ws+2, b.Min.Y+wy*ws+2
			w, h := label.size(n)
			fill(dst, image.Rect(x, y, x+w, y+h), labelBox, labelAlpha)
			if label.kind == faceLabels {
				drawText(dst, x+label.scale, y, n, regular, label.scale, labelInk)
			} else {
				drawDigits(dst, x+label.scale, y+label.scale, n, label.scale, labelInk)
			}
		}
	}
}

type labelKind int

const (
	noLabels labelKind = iota
	faceLabels
	digitLabels
)

// labelSpec is how the token numbers are drawn: which font and scale.
type labelSpec struct {
	kind  labelKind
	scale int
}

// size is the box of the label n: the text with a margin of one scaled pixel left and right
// (and, for the digit font, above and below).
func (l labelSpec) size(n string) (w, h int) {
	if l.kind == faceLabels {
		return textWidth(n, l.scale) + 2*l.scale, glyphH * l.scale
	}
	return (len(n)*digitW + 1) * l.scale, (digitH + 2) * l.scale
}

// labelStyle picks the largest label that fits the widest number (tokens−1) inside a window of
// ws pixels, clear of the window lines (2 pixels on each side).
func labelStyle(ws, tokens int) labelSpec {
	n := strconv.Itoa(max(tokens-1, 0))
	fits := func(l labelSpec) bool {
		w, h := l.size(n)
		return w <= ws-4 && h <= ws-4
	}
	for s := 4; s >= 1; s-- {
		if l := (labelSpec{faceLabels, s}); fits(l) && (s == 1 || glyphH*s*3 <= ws) {
			return l
		}
	}
	for s := 2; s >= 1; s-- {
		if l := (labelSpec{digitLabels, s}); fits(l) {
			return l
		}
	}
	return labelSpec{}
}

// strokeRect draws a one-pixel outline of colour c along dst's bounds.
func strokeRect(dst *image.RGBA, c color.RGBA) {
	b := dst.Bounds()
	fill(dst, image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+1), c, 255)
	fill(dst, image.Rect(b.Min.X, b.Max.Y-1, b.Max.X, b.Max.Y), c, 255)
	fill(dst, image.Rect(b.Min.X, b.Min.Y, b.Min.X+1, b.Max.Y), c, 255)
	fill(dst, image.Rect(b.Max.X-1, b.Min.Y, b.Max.X, b.Max.Y), c, 255)
}

// encodePNG writes m as PNG with the default compression (deterministic: same pixels, same
// bytes).
func encodePNG(w io.Writer, m image.Image) error {
	if err := png.Encode(w, m); err != nil {
		return fmt.Errorf("picture: writing PNG: %w", err)
	}
	return nil
}
