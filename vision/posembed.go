package vision

import "math"

// addPositions adds the learned position embedding, bilinearly interpolated from the square
// table to each item's h×w grid, to x [N, D] (rows in merge-window order). The same 2-D
// embedding is repeated for every temporal slice.
//
// Interpolation follows the reference (transformers' get_vision_interpolation_indices_and_weights,
// bilinear, align-corners) exactly, in float32: see axisTaps for one axis; the four corners
// (h0w0, h0w1, h1w0, h1w1) are weighted by the products of the axes' weights and summed in that
// order.
func (m *Model) addPositions(x []float32, grids []Grid) {
	d := m.cfg.HiddenSize
	side := m.cfg.PositionGridSide()
	ms := m.cfg.SpatialMergeSize
	emb := make([]float32, d)
	row := 0
	for _, g := range grids {
		hs, ws := axisTaps(g.H, side), axisTaps(g.W, side)
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

// interpolate writes the embedding at the taps (h, w) of one patch into dst.
func (m *Model) interpolate(dst []float32, h, w tap, side int) {
	d := m.cfg.HiddenSize
	weights := [4]float32{
		float32(h.w0 * w.w0),
		float32(h.w0 * w.w1),
		float32(h.w1 * w.w0),
		float32(h.w1 * w.w1),
	}
	rows := [4]int{h.i0*side + w.i0, h.i0*side + w.i1, h.i1*side + w.i0, h.i1*side + w.i1}
	t := m.posTable
	for k := 0; k < d; k++ {
		s := float32(t[rows[0]*d+k] * weights[0])
		s += float32(t[rows[1]*d+k] * weights[1])
		s += float32(t[rows[2]*d+k] * weights[2])
		s += float32(t[rows[3]*d+k] * weights[3])
		dst[k] = s
	}
}

// tap is one axis position's two table indices and their weights.
type tap struct {
	i0, i1 int
	w0, w1 float32
}

// axisTaps returns the taps of positions 0…n−1 of an axis of n patches into a table side long,
// as the reference computes them in float32: s = i·(side−1)/max(n−1, 1) (one correctly rounded
// division of exact integers), f = ⌊s⌋, taps f and min(f+1, side−1), weights 1−|s−f| and
// 1−|(s−f)−1| (the second is not always bitwise s−f).
func axisTaps(n, side int) []tap {
	taps := make([]tap, n)
	den := float32(max(n-1, 1))
	for i := range taps {
		s := float32(i*(side-1)) / den
		f := float32(math.Floor(float64(s)))
		d0 := s - f
		d1 := float32(math.Abs(float64(d0 - 1)))
		taps[i] = tap{
			i0: int(f), i1: min(int(f)+1, side-1),
			w0: max(1-d0, 0), w1: max(1-d1, 0),
		}
	}
	return taps
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
