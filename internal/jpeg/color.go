package jpeg

import "image"

// This file performs libjpeg's colour conversion (jdcolor.c) with its
// fixed-point tables: SCALEBITS = 16, ONE_HALF rounding folded into the
// tables, and clamping through the range-limit table.

const scaleBits = 16

// fix is libjpeg's FIX(x) for SCALEBITS = 16.
func fix(x float64) int { return int(x*(1<<scaleBits) + 0.5) }

// YCbCr→RGB tables (build_ycc_rgb_table).
var crR, cbB, crG, cbG [256]int

func init() {
	const oneHalf = 1 << (scaleBits - 1)
	for i := 0; i < 256; i++ {
		x := i - 128
		crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + oneHalf
	}
}

// clamp is libjpeg's sample_range_limit for the range the colour converters
// can produce ([-256, 511]).
func clamp(v int) byte {
	if uint(v) <= 255 {
		return byte(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// convert upsamples the component planes and converts them to the output
// image for colour space cs.
func (d *decoder) convert(cs colorSpace) image.Image {
	w, h := d.width, d.height
	rect := image.Rect(0, 0, w, h)
	ups := make([]*upsampler, len(d.comps))
	for i := range d.comps {
		ups[i] = newUpsampler(&d.comps[i], d.maxH, d.maxV, w)
	}
	switch cs {
	case csGray:
		img := image.NewGray(rect)
		for y := 0; y < h; y++ {
			copy(img.Pix[y*img.Stride:y*img.Stride+w], ups[0].rowAt(y, w))
		}
		return img
	case csYCbCr, csRGB:
		img := image.NewRGBA(rect)
		for y := 0; y < h; y++ {
			r0 := ups[0].rowAt(y, w)[:w]
			r1 := ups[1].rowAt(y, w)[:w]
			r2 := ups[2].rowAt(y, w)[:w]
			out := img.Pix[y*img.Stride : y*img.Stride+4*w]
			if cs == csRGB {
				for x := 0; x < w; x++ {
					o := out[4*x : 4*x+4 : 4*x+4]
					o[0], o[1], o[2], o[3] = r0[x], r1[x], r2[x], 255
				}
				continue
			}
			yccToRGBA(out, r0, r1, r2)
		}
		return img
	default:
		img := image.NewCMYK(rect)
		for y := 0; y < h; y++ {
			r0 := ups[0].rowAt(y, w)[:w]
			r1 := ups[1].rowAt(y, w)[:w]
			r2 := ups[2].rowAt(y, w)[:w]
			r3 := ups[3].rowAt(y, w)[:w]
			out := img.Pix[y*img.Stride : y*img.Stride+4*w]
			for x := 0; x < w; x++ {
				o := out[4*x : 4*x+4 : 4*x+4]
				if cs == csCMYK {
					o[0], o[1], o[2], o[3] = r0[x], r1[x], r2[x], r3[x]
					continue
				}
				// ycck_cmyk_convert: YCbCr→RGB, inverted; K passes through.
				yy, cb, cr := int(r0[x]), r1[x], r2[x]
				o[0] = clamp(255 - (yy + crR[cr]))
				o[1] = clamp(255 - (yy + ((cbG[cb] + crG[cr]) >> scaleBits)))
				o[2] = clamp(255 - (yy + cbB[cb]))
				o[3] = r3[x]
			}
		}
		return img
	}
}

// yccToRGBA converts one row (ycc_rgb_convert) into RGBA pixels.
func yccToRGBA(out, ys, cbs, crs []byte) {
	out = out[:4*len(ys)]
	cbs = cbs[:len(ys)]
	crs = crs[:len(ys)]
	for x, yv := range ys {
		yy := int(yv)
		cb, cr := cbs[x], crs[x]
		o := out[4*x : 4*x+4 : 4*x+4]
		o[0] = clamp(yy + crR[cr])
		o[1] = clamp(yy + ((cbG[cb] + crG[cr]) >> scaleBits))
		o[2] = clamp(yy + cbB[cb])
		o[3] = 255
	}
}
