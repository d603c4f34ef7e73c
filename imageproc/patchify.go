package imageproc

import "fmt"

// NormalizeLUT returns, per channel and 8-bit level v, the normalised value
// the reference's default backend produces: with m = float32(Mean[c]) ·
// float32(1/RescaleFactor) and s likewise from Std (the fused
// rescale-and-normalise of TorchvisionBackend.rescale_and_normalize, both
// rounded to float32), the value is (float32(v) − m) / s in float32. For
// the Qwen3-VL values that is (v − 127.5)/127.5, bit for bit.
//
// The PIL backend instead computes float32(float32(v·(1/255)) − 0.5)/0.5
// via float64, which can differ in the last bit; both map back to the same
// level.
func NormalizeLUT(opts Options) [3][256]float32 {
	var lut [3][256]float32
	inv := float32(1.0 / opts.RescaleFactor)
	for c := range 3 {
		m := opts.Mean[c] * inv
		s := opts.Std[c] * inv
		for v := range 256 {
			lut[c][v] = (float32(v) - m) / s
		}
	}
	return lut
}

// Patchify normalises img and lays it out as the reference's
// Qwen2VLImageProcessor.patchify does for one image: the frame is repeated
// TemporalPatchSize times and cut into PatchSize² patches; rows are ordered
// by merge window (block row, block column, row in block, column in block,
// so the MergeSize² patches that become one token are adjacent) and each row
// holds [channel][t][y][x], PatchDim() = 3·T·P² values. It returns the
// [grid.Patches(), PatchDim()] row-major matrix and the grid in patches,
// with T = 1. img's sides must be multiples of PatchSize·MergeSize.
func Patchify(img *RGB, opts Options) ([]float32, Grid, error) {
	if err := opts.Validate(); err != nil {
		return nil, Grid{}, err
	}
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) < 3*img.Width*img.Height {
		return nil, Grid{}, fmt.Errorf("imageproc: patchify: empty or malformed image")
	}
	f := opts.Factor()
	if img.Width%f != 0 || img.Height%f != 0 {
		return nil, Grid{}, fmt.Errorf("imageproc: patchify: image %dx%d is not a multiple of %d on both sides", img.Width, img.Height, f)
	}
	gh, gw := img.Height/opts.PatchSize, img.Width/opts.PatchSize
	out := make([]float32, gh*gw*opts.PatchDim())
	lut := NormalizeLUT(opts)
	// The temporal copies are identical frames.
	patchifyFrame(out, img, 0, 0, opts.TemporalPatchSize, opts, &lut)
	return out, Grid{T: 1, H: gh, W: gw}, nil
}

// patchifyFrame normalises img and writes it into temporal slots
// [slot0, slot1) of temporal group `group` of the patch matrix out, the
// layout of the reference's patchify for images and videos alike
// (Qwen2VLImageProcessor; video_processing_qwen3_vl.py lines 225–263):
// rows ordered by (group, block row, block column, row in block, column in
// block), each row [channel][t][y][x] of PatchDim() values. An image fills
// all TemporalPatchSize slots of group 0 with itself; a video frame k fills
// slot k%T of group k/T. img's sides must be multiples of
// PatchSize·MergeSize, and out must hold the group.
func patchifyFrame(out []float32, img *RGB, group, slot0, slot1 int, opts Options, lut *[3][256]float32) {
	p, m, tp := opts.PatchSize, opts.MergeSize, opts.TemporalPatchSize
	gh, gw := img.Height/p, img.Width/p
	dim := opts.PatchDim()
	base := group * gh * gw
	stride := 3 * img.Width
	pp := p * p
	blockRows := gh / m
	parallelRows(blockRows, gw*m*pp*3*(slot1-slot0), func(b0, b1 int) {
		for bh := b0; bh < b1; bh++ {
			row := base + bh*(gw/m)*m*m
			for bw := 0; bw < gw/m; bw++ {
				for mh := range m {
					for mw := range m {
						y0, x0 := (bh*m+mh)*p, (bw*m+mw)*p
						dst := out[row*dim : (row+1)*dim]
						row++
						for c := range 3 {
							i := (c*tp + slot0) * pp
							lc := &lut[c]
							for py := range p {
								src := img.Pix[(y0+py)*stride+3*x0+c:]
								d := dst[i+py*p : i+py*p+p]
								for px := range d {
									d[px] = lc[src[3*px]]
								}
							}
							for t := slot0 + 1; t < slot1; t++ {
								copy(dst[(c*tp+t)*pp:(c*tp+t+1)*pp], dst[i:i+pp])
							}
						}
					}
				}
			}
		}
	})
}
