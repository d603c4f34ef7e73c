package text

import "math"

// The decoder's rotary embedding is interleaved MRoPE (Qwen3VLTextRotaryEmbedding): each token
// has three positions (T, H, W, from textjoin.RopeIndex; all three equal for text), and each of
// the hd/2 rotary frequencies takes its angle from one of them. With s = mrope_section:
//
//	frequency j (0 ≤ j < hd/2) reads   H  if j % 3 = 1 and j < 3·s[1]
//	                                   W  if j % 3 = 2 and j < 3·s[2]
//	                                   T  otherwise
//
// (apply_interleaved_mrope's layout: T H W T H W … then T for the rest). The angle is
// float32(position) · invFreq[j] in float32, and a head's values i and i + hd/2 share frequency
// i mod hd/2, rotated in the rotate_half form (kernels.Rotary): x ← x·cos + [−x₂, x₁]·sin.

// ropeInvFreq is the reference's inverse frequencies, in float32 as it computes them:
// invFreq[j] = 1 / θ^(float32(2j)/hd), the power rounded to float32 before the division.
func ropeInvFreq(theta float64, headDim int) []float32 {
	inv := make([]float32, headDim/2)
	base := float64(float32(theta))
	for j := range inv {
		e := float32(2*j) / float32(headDim)
		p := float32(math.Pow(base, float64(e)))
		inv[j] = float32(1 / float64(p))
	}
	return inv
}

// ropeAxis returns which position row (0 = T, 1 = H, 2 = W) frequency j reads.
func ropeAxis(j int, section [3]int) int {
	switch {
	case j%3 == 1 && j < 3*section[1]:
		return 1
	case j%3 == 2 && j < 3*section[2]:
		return 2
	}
	return 0
}

// ropeTables returns cos and sin [n, hd] for n tokens whose positions are pos[axis][i]: row i,
// column c holds cos(pos[axis(c mod hd/2)][i] · invFreq[c mod hd/2]) (float32 angle, cosine
// rounded to float32), the layout kernels.Rotary takes.
func (m *Model) ropeTables(pos [3][]int, n int) (cos, sin []float32) {
	hd := m.cfg.HeadDim
	half := hd / 2
	cos, sin = make([]float32, n*hd), make([]float32, n*hd)
	axes := make([]int, half)
	for j := range axes {
		axes[j] = ropeAxis(j, m.cfg.MRopeSection)
	}
	for i := 0; i < n; i++ {
		for j, a := range axes {
			angle := float32(pos[a][i]) * m.invFreq[j]
			c, s := float32(math.Cos(float64(angle))), float32(math.Sin(float64(angle)))
			cos[i*hd+j], cos[i*hd+half+j] = c, c
			sin[i*hd+j], sin[i*hd+half+j] = s, s
		}
	}
	return cos, sin
}
