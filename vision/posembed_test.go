package vision

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// TestInterpolationGolden compares the position-table taps and weights, in merge-window order,
// bit for bit with the ones the pinned transformers computes
// (tools/reference/interp_goldens.py → testdata/golden/interp.safetensors).
func TestInterpolationGolden(t *testing.T) {
	f, err := safetensors.Open(filepath.Join(*goldenDirFlag, "interp.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for k := 0; ; k++ {
		g, err := f.Int64(fmt.Sprintf("%d.grid", k))
		if err != nil {
			if k == 0 {
				t.Fatal(err)
			}
			break
		}
		tt, h, w, side := int(g[0]), int(g[1]), int(g[2]), int(g[3])
		wantIdx, _ := f.Int64(fmt.Sprintf("%d.indices", k))
		wantW, _ := f.Float32(fmt.Sprintf("%d.weights", k))
		hs, ws := axisTaps(h, side), axisTaps(w, side)
		const m = 2
		row, bad := 0, 0
		for range tt {
			for br := 0; br < h/m; br++ {
				for bc := 0; bc < w/m; bc++ {
					for ir := 0; ir < m; ir++ {
						for ic := 0; ic < m; ic++ {
							a, b := hs[br*m+ir], ws[bc*m+ic]
							idx := [4]int{a.i0*side + b.i0, a.i0*side + b.i1, a.i1*side + b.i0, a.i1*side + b.i1}
							wt := [4]float32{a.w0 * b.w0, a.w0 * b.w1, a.w1 * b.w0, a.w1 * b.w1}
							for c := range 4 {
								if int64(idx[c]) != wantIdx[row*4+c] || math.Float32bits(wt[c]) != math.Float32bits(wantW[row*4+c]) {
									if bad < 5 {
										t.Errorf("grid %v side %d: patch %d tap %d: index %d weight %v, reference %d %v", g[:3], side, row, c, idx[c], wt[c], wantIdx[row*4+c], wantW[row*4+c])
									}
									bad++
								}
							}
							row++
						}
					}
				}
			}
		}
		if row*4 != len(wantIdx) {
			t.Errorf("grid %v: %d patches, reference %d", g[:3], row, len(wantIdx)/4)
		}
	}
}
