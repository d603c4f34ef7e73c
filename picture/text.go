package picture

import (
	"image"
	"image/color"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/inconsolata"
	"golang.org/x/image/math/fixed"
)

// The text faces: Inconsolata 8×16 bitmaps, every glyph glyphW wide and glyphH high.
var (
	regular = inconsolata.Regular8x16
	bold    = inconsolata.Bold8x16
)

const glyphW, glyphH = 8, 16

// glyphs replaces the characters the explanation uses that the bitmap faces lack.
var glyphs = strings.NewReplacer("→", "->", "√", "sqrt")

// printable is s with every character the faces lack replaced ("→" by "->", "√" by "sqrt",
// anything else by "?").
func printable(s string) string {
	s = glyphs.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if _, _, _, _, ok := regular.Glyph(fixed.P(0, 0), r); !ok {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// textWidth is the width in pixels of s (already printable) drawn at scale.
func textWidth(s string, scale int) int { return utf8.RuneCountInString(s) * glyphW * scale }

// drawLines draws lines at (x, y) in ink, lineSpacing apart, the first bold of them in the bold
// face and the rest regular.
func drawLines(dst *image.RGBA, x, y int, lines []string, boldLines int) {
	for j, l := range lines {
		face := regular
		if j < boldLines {
			face = bold
		}
		drawText(dst, x, y+j*lineSpacing, l, face, 1, ink)
	}
}

// drawText draws s (already printable) with its cell's top-left corner at (x, y), every glyph
// pixel a scale×scale square, in colour c blended by the glyph's coverage.
func drawText(dst *image.RGBA, x, y int, s string, face *basicfont.Face, scale int, c color.RGBA) {
	w := textWidth(s, 1)
	if w == 0 {
		return
	}
	mask := image.NewAlpha(image.Rect(0, 0, w, glyphH))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(s)
	for my := range glyphH {
		for mx := range w {
			a := mask.Pix[my*mask.Stride+mx]
			if a == 0 {
				continue
			}
			fill(dst, image.Rect(x+mx*scale, y+my*scale, x+(mx+1)*scale, y+(my+1)*scale), c, a)
		}
	}
}

// fill blends colour c with opacity a (0..255) over r ∩ dst.Bounds(), in integers:
// out = (c·a + dst·(255−a) + 127) / 255 per channel; the result is opaque.
func fill(dst *image.RGBA, r image.Rectangle, c color.RGBA, a uint8) {
	r = r.Intersect(dst.Bounds())
	A := uint32(a)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		p := dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)]
		for i := 0; i < len(p); i += 4 {
			p[i] = blend(c.R, p[i], A)
			p[i+1] = blend(c.G, p[i+1], A)
			p[i+2] = blend(c.B, p[i+2], A)
			p[i+3] = 255
		}
	}
}

func blend(fg, bg uint8, a uint32) uint8 {
	return uint8((uint32(fg)*a + uint32(bg)*(255-a) + 127) / 255)
}

// wrap breaks s (already printable) into lines of at most width characters at spaces; a word
// longer than width is cut. Continuation lines are indented by two spaces.
func wrap(s string, width int) []string {
	if width < 8 {
		width = 8
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for utf8.RuneCountInString(word) > width {
			if line != "" {
				lines = append(lines, line)
				line = "  "
			}
			r := []rune(word)
			n := width - utf8.RuneCountInString(line)
			lines = append(lines, line+string(r[:n]))
			line, word = "  ", string(r[n:])
		}
		switch {
		case line == "" || line == "  ":
			line += word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = "  " + word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// digits is a 3×5 bitmap font of the decimal digits, for token numbers in windows too small
// for the 8×16 face: row-major, one bit per pixel (bit 2 the left column).
var digits = [10][5]uint8{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 2, 2}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

const digitW, digitH = 4, 5 // advance (3 + 1 space) and height

// drawDigits draws the decimal string s with the 3×5 font at (x, y), scaled, in colour c.
func drawDigits(dst *image.RGBA, x, y int, s string, scale int, c color.RGBA) {
	for i, r := range s {
		g := digits[r-'0']
		for row := range digitH {
			for col := range 3 {
				if g[row]&(4>>col) != 0 {
					px, py := x+(i*digitW+col)*scale, y+row*scale
					fill(dst, image.Rect(px, py, px+scale, py+scale), c, 255)
				}
			}
		}
	}
}
