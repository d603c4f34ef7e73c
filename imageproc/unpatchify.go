package imageproc

import (
	"fmt"
	"math"
	"sort"
)

// Resized returns img resized exactly as Preprocess resizes it: to the size SmartResize picks
// under opts' pixel budget, with opts.Resampler (the pixels before normalisation). When the
// size is unchanged it returns img itself. img is not modified.
func Resized(img *RGB, opts Options) (*RGB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) < 3*img.Width*img.Height {
		return nil, fmt.Errorf("imageproc: resize: empty or malformed image")
	}
	h, w, err := SmartResize(img.Height, img.Width, opts.Factor(), opts.MinPixels, opts.MaxPixels)
	if err != nil {
		return nil, err
	}
	if err := checkResized(h, w, opts); err != nil {
		return nil, fmt.Errorf("imageproc: a %dx%d image %w", img.Width, img.Height, err)
	}
	return Resize(img, w, h, opts.Resampler)
}

// Unpatchify inverts Patchify for temporal group `group` of a [grid.Patches(), PatchDim()]
// matrix of normalised patches: it returns the 8-bit frame in temporal slot 0 of that group,
// grid.W·PatchSize × grid.H·PatchSize, each value mapped back to the level whose normalised
// value (NormalizeLUT) is nearest. For pixels Patchify made, that is the resized image exactly;
// for the reference processor's pixel_values too (both backends map back to the same level).
// Errors name the mismatch between pixels, grid and opts.
func Unpatchify(pixels []float32, grid Grid, group int, opts Options) (*RGB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p, m, tp := opts.PatchSize, opts.MergeSize, opts.TemporalPatchSize
	dim := opts.PatchDim()
	switch {
	case grid.T < 1 || grid.H < 1 || grid.W < 1:
		return nil, fmt.Errorf("imageproc: unpatchify: empty grid %v", grid)
	case grid.H%m != 0 || grid.W%m != 0:
		return nil, fmt.Errorf("imageproc: unpatchify: grid %v is not a multiple of the merge size %d", grid, m)
	case group < 0 || group >= grid.T:
		return nil, fmt.Errorf("imageproc: unpatchify: temporal group %d outside grid %v", group, grid)
	case len(pixels) != grid.Patches()*dim:
		return nil, fmt.Errorf("imageproc: unpatchify: %d values for grid %v, want %d×%d", len(pixels), grid, grid.Patches(), dim)
	}
	lut := NormalizeLUT(opts)
	img := NewRGB(grid.W*p, grid.H*p)
	stride := 3 * img.Width
	pp := p * p
	row := group * grid.H * grid.W
	for bh := 0; bh < grid.H/m; bh++ {
		for bw := 0; bw < grid.W/m; bw++ {
			for mh := range m {
				for mw := range m {
					src := pixels[row*dim : (row+1)*dim]
					row++
					y0, x0 := (bh*m+mh)*p, (bw*m+mw)*p
					for c := range 3 {
						plane := src[c*tp*pp : c*tp*pp+pp] // slot 0
						for py := range p {
							for px := range p {
								img.Pix[(y0+py)*stride+3*(x0+px)+c] = level(&lut[c], plane[py*p+px])
							}
						}
					}
				}
			}
		}
	}
	return img, nil
}

// level is the 8-bit level whose value in lut is nearest to v (the lower level at a tie);
// lut is monotonic, increasing for a positive std and decreasing for a negative one. NaN maps
// to 0.
func level(lut *[256]float32, v float32) uint8 {
	if v != v {
		return 0
	}
	up := lut[255] >= lut[0]
	// The first level at or past v in the table's direction.
	i := sort.Search(256, func(i int) bool {
		if up {
			return lut[i] >= v
		}
		return lut[i] <= v
	})
	switch i {
	case 0:
		return 0
	case 256:
		return 255
	}
	if math.Abs(float64(v-lut[i-1])) <= math.Abs(float64(lut[i]-v)) {
		return uint8(i - 1)
	}
	return uint8(i)
}
