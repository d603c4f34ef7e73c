package vision

import "math"

// addPositions adds the learned position embedding, bilinearly interpolated from the square
// table to each item's h×w grid, to x [N, D] (rows in merge-window order). The same 2-D
// embedding is repeated for every temporal slice.
//
// Interpolation follows the reference exactly, in float32: row i of h samples the table at
// linspace(0, side−1, h)[i] (align-corners), taps ⌊s⌋ and min(⌊s⌋+1, side−1), and the four
// corners are weighted (1−dh)(1−dw), (1−dh)dw, dh(1−dw), dh·dw and summed in that order.
func (m *Model) addPositions(x []float32, grids []Grid) {
	d := m.cfg.HiddenSize
	side := m.cfg.PositionGridSide()
	ms := m.cfg.SpatialMergeSize
	emb := make([]float32, d)
	row := 0
	for _, g := range grids {
		hs, ws := linspace(float32(side-1), g.H), linspace(float32(side-1), g.W)
		// Patch (r, c) of the item's grid, visited in merge-window order.
		for br := 0; br < g.H/ms; br++ {
			for bc := 0; bc < g.W/ms; bc++ {
				for ir := 0; ir < ms; ir++ {
					for ic := 0; ic < ms; ic++ {
						r, c := br*ms+ir, bc*ms+ic
						m.interpolate(emb, hs[r], ws[c], side)
						// Repeated over t: the slices are g.H·g.W rows apart.
						i := (br*(g.W/ms)+bc)*ms*ms + ir*ms + ic
						for t := 0; t < g.T; t++ {
							dst := x[(row+t*g.H*g.W+i)*d:][:d]
							for k := range dst {
								dst[k] += emb[k]
							}
						}
					}
				}
			}
		}
		row += g.Patches()
	}
}

// interpolate writes the embedding at fractional table position (sh, sw) into dst.
func (m *Model) interpolate(dst []float32, sh, sw float32, side int) {
	d := m.cfg.HiddenSize
	h0, w0 := int(sh), int(sw)
	h1, w1 := min(h0+1, side-1), min(w0+1, side-1)
	dh, dw := sh-float32(h0), sw-float32(w0)
	weights := [4]float32{
		float32((1 - dh) * (1 - dw)),
		float32((1 - dh) * dw),
		float32(dh * (1 - dw)),
		float32(dh * dw),
	}
	rows := [4]int{h0*side + w0, h0*side + w1, h1*side + w0, h1*side + w1}
	t := m.posTable
	for k := 0; k < d; k++ {
		s := float32(t[rows[0]*d+k] * weights[0])
		s += float32(t[rows[1]*d+k] * weights[1])
		s += float32(t[rows[2]*d+k] * weights[2])
		s += float32(t[rows[3]*d+k] * weights[3])
		dst[k] = s
	}
}

// linspace returns n float32 values from 0 to end inclusive as torch.linspace computes them:
// step = end/(n−1) in float32; the first half counts up from 0, the second half down from end.
func linspace(end float32, n int) []float32 {
	v := make([]float32, n)
	if n == 1 {
		return v
	}
	step := end / float32(n-1)
	half := n / 2
	for i := range v {
		if i < half {
			v[i] = float32(step * float32(i))
		} else {
			v[i] = end - float32(step*float32(n-1-i))
		}
	}
	return v
}

// rotaryInvFreq returns the head_dim/4 inverse frequencies of the 2-D rotary embedding:
// 1/θ^(2i/(head_dim/2)), computed in float32 steps as the reference does.
func rotaryInvFreq(headDim int) []float32 {
	dim := headDim / 2
	inv := make([]float32, 0, dim/2)
	for i := 0; i < dim; i += 2 {
		e := float32(i) / float32(dim)
		p := float32(math.Pow(RopeTheta, float64(e)))
		inv = append(inv, 1/p)
	}
	return inv
}

// rotaryTables returns cos and sin [N, head_dim] for the rows of x in merge-window order: the
// angles of a patch at (row, col) are [row·f | col·f] (head_dim/2 values, f the inverse
// frequencies), duplicated to head_dim. Repeated for every temporal slice.
func (m *Model) rotaryTables(grids []Grid, n int) (cos, sin []float32) {
	hd := m.cfg.HeadDim()
	q := len(m.invFreq)
	ms := m.cfg.SpatialMergeSize
	cos, sin = make([]float32, n*hd), make([]float32, n*hd)
	row := 0
	for _, g := range grids {
		for t := 0; t < g.T; t++ {
			for br := 0; br < g.H/ms; br++ {
				for bc := 0; bc < g.W/ms; bc++ {
					for ir := 0; ir < ms; ir++ {
						for ic := 0; ic < ms; ic++ {
							pr, pc := float32(br*ms+ir), float32(bc*ms+ic)
							c, s := cos[row*hd:(row+1)*hd], sin[row*hd:(row+1)*hd]
							for f, inv := range m.invFreq {
								for _, a := range [2]struct {
									at  int
									ang float32
								}{{f, float32(pr * inv)}, {q + f, float32(pc * inv)}} {
									cv := float32(math.Cos(float64(a.ang)))
									sv := float32(math.Sin(float64(a.ang)))
									c[a.at], c[a.at+hd/2] = cv, cv
									s[a.at], s[a.at+hd/2] = sv, sv
								}
							}
							row++
						}
					}
				}
			}
		}
	}
	return cos, sin
}
