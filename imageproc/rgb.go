package imageproc

import (
	"image"
	"image/color"
)

// RGB is an 8-bit RGB image with packed, interleaved pixels: the pixel at
// (x, y) is Pix[3*(y*Width+x) : 3*(y*Width+x)+3]. It is the working format
// between Decode, Resize and Patchify. RGB implements image.Image (always
// opaque), so it can be handed to image/png for inspection.
type RGB struct {
	Pix           []uint8
	Width, Height int
}

// NewRGB allocates a zeroed width×height image.
func NewRGB(width, height int) *RGB {
	return &RGB{Pix: make([]uint8, 3*width*height), Width: width, Height: height}
}

// ColorModel implements image.Image.
func (m *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds implements image.Image.
func (m *RGB) Bounds() image.Rectangle { return image.Rect(0, 0, m.Width, m.Height) }

// At implements image.Image.
func (m *RGB) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return color.RGBA{}
	}
	i := 3 * (y*m.Width + x)
	return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xff}
}

// Opaque reports that the image has no transparency (for image/png).
func (m *RGB) Opaque() bool { return true }
