package imageproc

import "image"

// ycbcrToRGBLibwebp converts a lossy WebP frame (4:2:0 planes, as
// golang.org/x/image/webp returns them) to RGB as libwebp's default
// WebPDecodeRGB does: the "fancy" upsampler (dsp/upsampling.c
// UPSAMPLE_FUNC, driven by dec/io_dec.c EmitFancyRGB) and the 14-bit
// fixed-point VP8YUVToR/G/B of dsp/yuv.h. Pillow and torchvision both
// decode WebP with libwebp.
func ycbcrToRGBLibwebp(m *image.YCbCr) *RGB {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	if w == 0 || h == 0 {
		return out
	}
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		// VP8 is always 4:2:0; anything else is not from x/image/webp.
		return toRGB(m)
	}
	cw, ch := (w+1)/2, (h+1)/2
	uRow := func(cy int) []uint8 {
		cy = min(max(cy, 0), ch-1)
		o := m.COffset(b.Min.X, b.Min.Y+2*cy)
		return m.Cb[o : o+cw]
	}
	vRow := func(cy int) []uint8 {
		cy = min(max(cy, 0), ch-1)
		o := m.COffset(b.Min.X, b.Min.Y+2*cy)
		return m.Cr[o : o+cw]
	}
	yRow := func(y int) []uint8 {
		o := m.YOffset(b.Min.X, b.Min.Y+y)
		return m.Y[o : o+w]
	}
	dstRow := func(y int) []uint8 { return out.Pix[3*y*w : 3*(y+1)*w] }
	// Row 0 pairs chroma row 0 with itself; rows 2k−1 (top) and 2k (bottom)
	// pair chroma rows k−1 and k; an even height ends with the last row
	// paired with the last chroma row again.
	upsampleLinePair(yRow(0), nil, uRow(0), vRow(0), uRow(0), vRow(0), dstRow(0), nil, w)
	for k := 1; 2*k-1 < h; k++ {
		top := 2*k - 1
		if 2*k < h {
			upsampleLinePair(yRow(top), yRow(2*k), uRow(k-1), vRow(k-1), uRow(k), vRow(k), dstRow(top), dstRow(2*k), w)
		} else {
			upsampleLinePair(yRow(top), nil, uRow(k-1), vRow(k-1), uRow(k-1), vRow(k-1), dstRow(top), nil, w)
		}
	}
	return out
}

func webpClip8(v int) uint8 {
	const fix2 = 6
	const mask2 = (256 << fix2) - 1
	if v&^mask2 == 0 {
		return uint8(v >> fix2)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func multHi(v, coeff int) int { return (v * coeff) >> 8 }

func webpYUVToRGB(y, u, v int, dst []uint8) {
	dst[0] = webpClip8(multHi(y, 19077) + multHi(v, 26149) - 14234)
	dst[1] = webpClip8(multHi(y, 19077) - multHi(u, 6419) - multHi(v, 13320) + 8708)
	dst[2] = webpClip8(multHi(y, 19077) + multHi(u, 33050) - 17685)
}

// upsampleLinePair is libwebp's UPSAMPLE_FUNC for one pair of output rows
// (bottomY may be nil). U and V are processed independently; libwebp packs
// them in one uint32 but no carry crosses the halves.
func upsampleLinePair(topY, bottomY, topU, topV, curU, curV, topDst, bottomDst []uint8, n int) {
	lastPair := (n - 1) >> 1
	tlU, tlV := int(topU[0]), int(topV[0])
	lU, lV := int(curU[0]), int(curV[0])
	webpYUVToRGB(int(topY[0]), (3*tlU+lU+2)>>2, (3*tlV+lV+2)>>2, topDst)
	if bottomY != nil {
		webpYUVToRGB(int(bottomY[0]), (3*lU+tlU+2)>>2, (3*lV+tlV+2)>>2, bottomDst)
	}
	for x := 1; x <= lastPair; x++ {
		tU, tV := int(topU[x]), int(topV[x])
		U, V := int(curU[x]), int(curV[x])
		avgU := tlU + tU + lU + U + 8
		avgV := tlV + tV + lV + V + 8
		d12U, d12V := (avgU+2*(tU+lU))>>3, (avgV+2*(tV+lV))>>3
		d03U, d03V := (avgU+2*(tlU+U))>>3, (avgV+2*(tlV+V))>>3
		webpYUVToRGB(int(topY[2*x-1]), (d12U+tlU)>>1, (d12V+tlV)>>1, topDst[3*(2*x-1):])
		webpYUVToRGB(int(topY[2*x]), (d03U+tU)>>1, (d03V+tV)>>1, topDst[3*(2*x):])
		if bottomY != nil {
			webpYUVToRGB(int(bottomY[2*x-1]), (d03U+lU)>>1, (d03V+lV)>>1, bottomDst[3*(2*x-1):])
			webpYUVToRGB(int(bottomY[2*x]), (d12U+U)>>1, (d12V+V)>>1, bottomDst[3*(2*x):])
		}
		tlU, tlV, lU, lV = tU, tV, U, V
	}
	if n&1 == 0 {
		webpYUVToRGB(int(topY[n-1]), (3*tlU+lU+2)>>2, (3*tlV+lV+2)>>2, topDst[3*(n-1):])
		if bottomY != nil {
			webpYUVToRGB(int(bottomY[n-1]), (3*lU+tlU+2)>>2, (3*lV+tlV+2)>>2, bottomDst[3*(n-1):])
		}
	}
}
