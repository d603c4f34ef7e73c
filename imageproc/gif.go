package imageproc

import (
	"image"
	"image/color"
	"image/gif"
	"io"
)

// decodeGIF returns the first frame of a GIF the way the reference's
// default loader (torchvision.io.decode_image, giflib) does: the frame's
// own size, each index mapped through its colour table, and transparent
// pixels painted with the background colour (global colour table entry
// BackgroundIndex). image/gif blanks the transparent entry of the palette,
// so the colours are re-read from the file here: consumed returns the
// file's bytes read so far, which hold the header.
func decodeGIF(r io.Reader, consumed func() []byte) (image.Image, error) {
	img, err := gif.Decode(r)
	if err != nil {
		return nil, err
	}
	data := consumed()
	m, ok := img.(*image.Paletted)
	if !ok {
		return img, nil
	}
	// Logical screen descriptor: flags at 10, background index at 11,
	// global colour table from 13 when flags&0x80.
	var global [][3]uint8
	if len(data) >= 13 && data[10]&0x80 != 0 {
		n := 2 << (data[10] & 7)
		if 13+3*n <= len(data) {
			for i := range n {
				o := 13 + 3*i
				global = append(global, [3]uint8{data[o], data[o+1], data[o+2]})
			}
		}
	}
	var bg [3]uint8
	if bi := int(data[11]); bi < len(global) { // the decoder read the header: len(data) ≥ 13
		bg = global[bi]
	}
	pal := make(color.Palette, len(m.Palette))
	for i, c := range m.Palette {
		if r, g, b, a := c.RGBA(); a == 0 && r == 0 && g == 0 && b == 0 {
			pal[i] = color.RGBA{bg[0], bg[1], bg[2], 0xff}
		} else {
			pal[i] = c
		}
	}
	b := m.Rect
	out := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
	for y := range b.Dy() {
		copy(out.Pix[y*out.Stride:], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()])
	}
	return out, nil
}
