package picture

import (
	"math"
	"sort"
	"testing"
)

// jacobi returns the eigenvalues (decreasing) and unit eigenvectors (columns of v, in the same
// order) of the symmetric n×n matrix a, by cyclic Jacobi rotations in float64: an exact
// decomposition to rounding, independent of the power iteration under test.
func jacobi(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	m := make([][]float64, n)
	v := make([][]float64, n)
	for i := range n {
		m[i] = append([]float64(nil), a[i]...)
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for i := range n {
			for j := i + 1; j < n; j++ {
				off += m[i][j] * m[i][j]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if m[p][q] == 0 {
					continue
				}
				theta := (m[q][q] - m[p][p]) / (2 * m[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n { // columns p and q
					mkp, mkq := m[k][p], m[k][q]
					m[k][p], m[k][q] = c*mkp-s*mkq, s*mkp+c*mkq
				}
				for k := range n { // rows p and q
					mpk, mqk := m[p][k], m[q][k]
					m[p][k], m[q][k] = c*mpk-s*mqk, s*mpk+c*mqk
				}
				for k := range n {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return m[idx[i]][idx[i]] > m[idx[j]][idx[j]] })
	vals := make([]float64, n)
	vecs := make([][]float64, n)
	for k, i := range idx {
		vals[k] = m[i][i]
		vecs[k] = make([]float64, n)
		for r := range n {
			vecs[k][r] = v[r][i]
		}
	}
	return vals, vecs
}

// testMatrix is a [rows, cols] matrix with a known spread: row r is Σ_k s_k·z_{r,k}·b_k plus
// an offset, b_k fixed directions, z pseudo-random, so the variances along b_k fall with s_k.
func testMatrix(rows, cols int, scales []float64) []float32 {
	x := make([]float32, rows*cols)
	seed := uint64(12345)
	next := func() float64 { // xorshift64*, uniform in [-1, 1)
		seed ^= seed >> 12
		seed ^= seed << 25
		seed ^= seed >> 27
		return float64(seed*2685821657736338717>>11)/(1<<52) - 1
	}
	dirs := make([][]float64, len(scales))
	for k := range dirs {
		dirs[k] = make([]float64, cols)
		for c := range cols {
			dirs[k][c] = next()
		}
	}
	for r := range rows {
		for c := range cols {
			x[r*cols+c] = float32(3 + 0.01*next())
		}
		for k, s := range scales {
			z := s * next()
			for c := range cols {
				x[r*cols+c] += float32(z * dirs[k][c])
			}
		}
	}
	return x
}

func covariance(x []float32, rows, cols int) [][]float64 {
	mean := make([]float64, cols)
	for r := range rows {
		for c := range cols {
			mean[c] += float64(x[r*cols+c])
		}
	}
	for c := range mean {
		mean[c] /= float64(rows)
	}
	cov := make([][]float64, cols)
	for i := range cov {
		cov[i] = make([]float64, cols)
		for j := range cols {
			s := 0.0
			for r := range rows {
				s += (float64(x[r*cols+i]) - mean[i]) * (float64(x[r*cols+j]) - mean[j])
			}
			cov[i][j] = s / float64(rows-1)
		}
	}
	return cov
}

// TestPCAAgainstJacobi: the power iteration's components and variances are the exact
// eigendecomposition's (Jacobi on the covariance), the first explains the most variance, the
// components are orthonormal, the total is the trace.
func TestPCAAgainstJacobi(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows, cols int
		scales     []float64
	}{
		{"well separated", 200, 12, []float64{5, 3, 1.5, 0.5}},
		{"more columns than rows", 9, 20, []float64{4, 2, 1}},
		{"close variances", 300, 8, []float64{2, 1.8, 1.6, 0.2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := testMatrix(tc.rows, tc.cols, tc.scales)
			p := fitPCA(x, tc.rows, tc.cols, 3)
			cov := covariance(x, tc.rows, tc.cols)
			vals, vecs := jacobi(cov)
			trace := 0.0
			for i := range cov {
				trace += cov[i][i]
			}
			if math.Abs(p.total-trace) > 1e-9*trace {
				t.Errorf("total variance %v, trace %v", p.total, trace)
			}
			for j := range 3 {
				if math.Abs(p.variances[j]-vals[j]) > 1e-6*vals[0] {
					t.Errorf("variance %d: %v, eigenvalue %v", j, p.variances[j], vals[j])
				}
				if d := math.Abs(dot(p.components[j], vecs[j])); d < 1-1e-6 {
					t.Errorf("component %d: |cos| with the eigenvector %v", j, d)
				}
				if j > 0 && p.variances[j] > p.variances[j-1] {
					t.Errorf("variance %d (%v) above variance %d (%v)", j, p.variances[j], j-1, p.variances[j-1])
				}
				for i := range j + 1 {
					want := 0.0
					if i == j {
						want = 1
					}
					if d := dot(p.components[i], p.components[j]); math.Abs(d-want) > 1e-8 {
						t.Errorf("⟨c%d, c%d⟩ = %v, want %v", i, j, d, want)
					}
				}
			}
			// The first explains the most: no unit direction has more variance than c₁; the
			// variance along it measured directly from the projections equals λ₁.
			proj := make([]float64, tc.rows)
			for r := range proj {
				proj[r] = p.project(x[r*tc.cols : (r+1)*tc.cols])[0]
			}
			v := 0.0
			for _, q := range proj {
				v += q * q
			}
			v /= float64(tc.rows - 1)
			if math.Abs(v-vals[0]) > 1e-6*vals[0] {
				t.Errorf("variance of the projections on c1: %v, largest eigenvalue %v", v, vals[0])
			}
		})
	}
}

// TestPCASign: every component's largest-magnitude entry is positive, and the result does not
// depend on the sign of the data.
func TestPCASign(t *testing.T) {
	x := testMatrix(50, 6, []float64{3, 2, 1})
	neg := make([]float32, len(x))
	for i, v := range x {
		neg[i] = -v
	}
	a, b := fitPCA(x, 50, 6, 3), fitPCA(neg, 50, 6, 3)
	for j := range 3 {
		best := 0
		for i, v := range a.components[j] {
			if math.Abs(v) > math.Abs(a.components[j][best]) {
				best = i
			}
		}
		if a.components[j][best] <= 0 {
			t.Errorf("component %d: largest entry %v is not positive", j, a.components[j][best])
		}
		if d := dot(a.components[j], b.components[j]); d < 1-1e-9 {
			t.Errorf("component %d differs for the negated data: cos %v", j, d)
		}
	}
}

// TestPCADegenerate: constant rows, a single row and fewer columns than components give zero
// variances, not NaN.
func TestPCADegenerate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		x          []float32
		rows, cols int
	}{
		{"constant", []float32{1, 2, 1, 2, 1, 2}, 3, 2},
		{"one row", []float32{1, 2, 3}, 1, 3},
		{"one column", []float32{1, 2, 4}, 3, 1},
	} {
		p := fitPCA(tc.x, tc.rows, tc.cols, 3)
		for j, v := range p.variances {
			if math.IsNaN(v) || v < 0 {
				t.Errorf("%s: variance %d = %v", tc.name, j, v)
			}
		}
		for _, c := range p.components {
			for _, v := range c {
				if math.IsNaN(v) {
					t.Errorf("%s: NaN in a component", tc.name)
				}
			}
		}
	}
}
