package imageproc

import (
	"fmt"
	"image"
	"io"

	"github.com/qwen3vl/qwen3vl/internal/jpeg"
)

// decodeJPEG decodes a baseline or progressive, Huffman- or arithmetic-coded JPEG with internal/jpeg, which reproduces
// libjpeg-turbo's default decompression (what Pillow and torchvision.io.decode_image use) bit
// for bit: the "islow" integer IDCT, "fancy" chroma upsampling and libjpeg's fixed-point
// YCbCr→RGB. It returns *image.RGBA (opaque) for colour images, *image.Gray for grayscale ones,
// and *RGB for Adobe CMYK/YCCK ones.
func decodeJPEG(r io.Reader) (image.Image, error) {
	img, err := jpeg.Decode(r)
	if err != nil {
		return nil, err
	}
	if m, ok := img.(*image.CMYK); ok {
		return cmykToRGB(m), nil
	}
	return img, nil
}

// decodeJPEGConfig reads a JPEG header up to the frame header with internal/jpeg, the parser
// that decodes the pixels, so that every file the decoder accepts passes the header check and
// the header refuses what the decoder would. jpeg.DecodeConfig sets no size limit of its own, so
// Decode's limit (Options.MaxDecodePixels) is the one that speaks; only a limit above the
// decoder's own (jpeg.MaxPixels) is refused here, as ErrTooLarge too.
func decodeJPEGConfig(r io.Reader) (image.Config, error) {
	cfg, err := jpeg.DecodeConfig(r)
	if err != nil {
		return cfg, err
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > jpeg.MaxPixels {
		return cfg, fmt.Errorf("%w: %dx%d = %d pixels, over the JPEG decoder's limit of %d", ErrTooLarge, cfg.Width, cfg.Height, px, int64(jpeg.MaxPixels))
	}
	return cfg, nil
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// cmykToRGB converts as Pillow's cmyk2rgb (Convert.c) does, which torchvision matched on every
// CMYK fixture. internal/jpeg returns libjpeg's raw samples of an Adobe CMYK file, in which 255
// means no ink; Pillow's CMYK values are 255 minus them, so with ink amounts C, M, Y, K and
// nk = 255 − K: R = nk − round(C·nk/255) via MULDIV255.
func cmykToRGB(m *image.CMYK) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	for y := range h {
		s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
		d := out.Pix[3*y*w:]
		for x := range w {
			nk := int32(s[4*x+3]) // 255 − (255 − raw K)
			for c := range 3 {
				t := (255-int32(s[4*x+c]))*nk + 128
				d[3*x+c] = clamp8(nk - ((t>>8)+t)>>8)
			}
		}
	}
	return out
}
