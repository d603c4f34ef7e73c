package imageproc

import (
	"image"
	"image/jpeg"
	"io"
)

// decodeJPEG decodes a baseline or progressive JPEG. It is the only place
// that knows how JPEG pixels are produced, so a bit-exact decoder can be
// swapped in here. It returns *RGB for colour images (YCbCr, RGB, CMYK,
// YCCK) and *image.Gray for grayscale ones.
//
// The reference (Pillow, and torchvision.io.decode_image, which agree on
// every fixture) uses libjpeg-turbo with its defaults: the "islow" integer
// IDCT, "fancy" triangular chroma upsampling and fixed-point YCbCr→RGB.
// image/jpeg has its own IDCT (not reproduced here) and returns the
// subsampled chroma planes; the upsampling and colour conversion below are
// libjpeg-turbo's (jdsample.c, jdcolor.c), so the remaining difference is
// the IDCT's rounding.
func decodeJPEG(r io.Reader) (image.Image, error) {
	img, err := jpeg.Decode(r)
	if err != nil {
		return nil, err
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return ycbcrToRGBLibjpeg(m), nil
	case *image.CMYK:
		return cmykToRGB(m), nil
	}
	return img, nil
}

// decodeJPEGConfig reads a JPEG header (size only).
func decodeJPEGConfig(r io.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }

// libjpeg's fixed-point YCbCr→RGB tables (jdcolor.c build_ycc_rgb_table).
var crR, cbB [256]int32
var crG, cbG [256]int32

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + oneHalf
	}
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

// ycbcrToRGBLibjpeg upsamples the chroma planes of m as libjpeg-turbo does
// by default and converts to RGB with libjpeg's tables.
func ycbcrToRGBLibjpeg(m *image.YCbCr) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	if w == 0 || h == 0 {
		return out
	}
	// Chroma subsampling factors and the chroma plane size libjpeg works on
	// (downsampled_width/height = ceil(image size / factor)).
	hs, vs := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	cbRow := func(cy int) []uint8 {
		o := m.COffset(b.Min.X, b.Min.Y+cy*vs)
		return m.Cb[o : o+cw]
	}
	crRow := func(cy int) []uint8 {
		o := m.COffset(b.Min.X, b.Min.Y+cy*vs)
		return m.Cr[o : o+cw]
	}
	// libjpeg uses the fancy (triangle) filter for h2v1 and h2v2 only when
	// the chroma plane is wider than 2 samples, and for h1v2 always; every
	// other case is plain replication.
	fancyH := hs == 2 && cw > 2
	fancyV := vs == 2 && (hs == 1 || cw > 2)
	if hs == 4 {
		fancyH, fancyV = false, false
	}
	parallelRows(h, w*8, func(y0, y1 int) {
		cbUp := make([]uint8, cw*hs+2)
		crUp := make([]uint8, cw*hs+2)
		colCb := make([]int32, cw)
		colCr := make([]int32, cw)
		for y := y0; y < y1; y++ {
			cy := y / vs
			// Vertical step: column sums (3·nearer + farther) when fancy,
			// else the nearest row (times 4, to share the horizontal code).
			if fancyV {
				far := cy - 1 // even rows lean on the row above
				if y%2 == 1 {
					far = cy + 1
				}
				far = min(max(far, 0), ch-1) // libjpeg duplicates edge rows
				nb, nr := cbRow(cy), crRow(cy)
				fb, fr := cbRow(far), crRow(far)
				for i := range cw {
					colCb[i] = 3*int32(nb[i]) + int32(fb[i])
					colCr[i] = 3*int32(nr[i]) + int32(fr[i])
				}
			} else {
				nb, nr := cbRow(cy), crRow(cy)
				for i := range cw {
					colCb[i] = int32(nb[i])
					colCr[i] = int32(nr[i])
				}
			}
			upsampleRow(cbUp, colCb, hs, fancyH, fancyV, y%2 == 1)
			upsampleRow(crUp, colCr, hs, fancyH, fancyV, y%2 == 1)
			yo := m.YOffset(b.Min.X, b.Min.Y+y)
			yr := m.Y[yo : yo+w]
			d := out.Pix[3*y*w : 3*(y+1)*w]
			for x := range w {
				yy := int32(yr[x])
				cb, cr := cbUp[x], crUp[x]
				d[3*x] = clamp8(yy + crR[cr])
				d[3*x+1] = clamp8(yy + ((cbG[cb] + crG[cr]) >> 16))
				d[3*x+2] = clamp8(yy + cbB[cb])
			}
		}
	})
	return out
}

// upsampleRow expands one row of chroma column values to full width.
// With fancyV the values are column sums 3·near + far (so ×4 scale),
// otherwise plain samples. odd tells h1v2 which rounding bias applies.
func upsampleRow(dst []uint8, col []int32, hs int, fancyH, fancyV, odd bool) {
	n := len(col)
	switch {
	case fancyH && fancyV: // h2v2_fancy_upsample
		this, next := col[0], col[1]
		dst[0] = uint8((this*4 + 8) >> 4)
		dst[1] = uint8((this*3 + next + 7) >> 4)
		last := this
		this = next
		for i := 1; i < n-1; i++ {
			next = col[i+1]
			dst[2*i] = uint8((this*3 + last + 8) >> 4)
			dst[2*i+1] = uint8((this*3 + next + 7) >> 4)
			last, this = this, next
		}
		dst[2*n-2] = uint8((this*3 + last + 8) >> 4)
		dst[2*n-1] = uint8((this*4 + 7) >> 4)
	case fancyH: // h2v1_fancy_upsample
		dst[0] = uint8(col[0])
		dst[1] = uint8((col[0]*3 + col[1] + 2) >> 2)
		for i := 1; i < n-1; i++ {
			v := col[i] * 3
			dst[2*i] = uint8((v + col[i-1] + 1) >> 2)
			dst[2*i+1] = uint8((v + col[i+1] + 2) >> 2)
		}
		dst[2*n-2] = uint8((col[n-1]*3 + col[n-2] + 1) >> 2)
		dst[2*n-1] = uint8(col[n-1])
	case fancyV && hs == 1: // h1v2_fancy_upsample
		bias := int32(1)
		if odd {
			bias = 2
		}
		for i, v := range col {
			dst[i] = uint8((v + bias) >> 2)
		}
	default: // replication (fullsize, h2v1/h2v2 plain, int_upsample)
		for i, v := range col {
			for j := range hs {
				dst[i*hs+j] = uint8(v)
			}
		}
	}
}

// cmykToRGB converts as Pillow's cmyk2rgb (Convert.c) does, which
// torchvision matched on every CMYK fixture: with nk = 255 − K,
// R = nk − round(C·nk/255) via MULDIV255. image/jpeg has already undone
// the Adobe inversion, so C, M, Y, K are ink amounts.
func cmykToRGB(m *image.CMYK) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	for y := range h {
		s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
		d := out.Pix[3*y*w:]
		for x := range w {
			nk := 255 - int32(s[4*x+3])
			for c := range 3 {
				t := int32(s[4*x+c])*nk + 128
				d[3*x+c] = clamp8(nk - ((t>>8)+t)>>8)
			}
		}
	}
	return out
}
