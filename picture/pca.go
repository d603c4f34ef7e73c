package picture

import "math"

// pcaIterations bounds the power iterations per component; pcaTolerance stops them earlier
// once the vector moves less than this (Euclidean norm of the change of a unit vector).
const (
	pcaIterations = 150
	pcaTolerance  = 1e-10
	// pcaFitRows bounds the rows the components are fitted on: a larger matrix is fitted on
	// every k-th row (k = ⌈rows/pcaFitRows⌉, from row 0), then every row is projected.
	pcaFitRows = 1024
)

// pca is the top principal components of the rows of a [rows, cols] matrix.
type pca struct {
	mean       []float64   // the column means of the fitted rows
	components [][]float64 // unit vectors, by decreasing variance
	variances  []float64   // the variance along each (the covariance's eigenvalues)
	total      float64     // the total variance (the covariance's trace)
}

// fitPCA finds the top k principal components of the rows of x ([rows, cols] row-major) by
// power iteration on the covariance C = XcᵀXc/(n−1) of the centred rows Xc, applied as
// Xcᵀ(Xc·v) without forming C, with Hotelling deflation: component j iterates
// v ← (C − Σ_{i<j} λᵢvᵢvᵢᵀ)v / ‖…‖. The start vector is fixed (entry i is 1 + (i mod 7)/7,
// normalised), the iteration count bounded (pcaIterations, pcaTolerance), and each component's
// sign chosen so that its largest-magnitude entry (the first of equals) is positive. Every sum
// runs in index order in float64 with each product rounded first, so the result is the same
// on every machine.
func fitPCA(x []float32, rows, cols, k int) pca {
	step := (rows + pcaFitRows - 1) / pcaFitRows
	var fit [][]float64
	for r := 0; r < rows; r += step {
		row := make([]float64, cols)
		for c := range cols {
			row[c] = float64(x[r*cols+c])
		}
		fit = append(fit, row)
	}
	n := len(fit)
	p := pca{mean: make([]float64, cols)}
	for _, row := range fit {
		for c, v := range row {
			p.mean[c] += v
		}
	}
	for c := range p.mean {
		p.mean[c] /= float64(n)
	}
	for _, row := range fit {
		for c := range row {
			row[c] -= p.mean[c]
			p.total += float64(row[c] * row[c])
		}
	}
	denom := float64(max(n-1, 1))
	p.total /= denom
	proj := make([]float64, n)
	cov := func(dst, v []float64) { // dst = C·v
		for i, row := range fit {
			proj[i] = dot(row, v)
		}
		clear(dst)
		for i, row := range fit {
			a := proj[i]
			for c, x := range row {
				dst[c] += float64(a * x)
			}
		}
		for c := range dst {
			dst[c] /= denom
		}
	}
	v, next := make([]float64, cols), make([]float64, cols)
	for j := 0; j < min(k, cols); j++ {
		for i := range v {
			v[i] = 1 + float64(i%7)/7
		}
		normalize(v)
		lambda := 0.0
		for range pcaIterations {
			cov(next, v)
			for i, u := range p.components {
				a := float64(p.variances[i] * dot(u, v))
				for c := range next {
					next[c] -= float64(a * u[c])
				}
			}
			lambda = dot(v, next) // the Rayleigh quotient of the unit v
			if normalize(next) == 0 {
				break // nothing left: the rest of the variance is zero
			}
			diff := 0.0
			for c := range v {
				d := next[c] - v[c]
				diff += float64(d * d)
			}
			v, next = next, v
			if math.Sqrt(diff) < pcaTolerance {
				break
			}
		}
		u := make([]float64, cols)
		copy(u, v)
		fixSign(u)
		p.components = append(p.components, u)
		p.variances = append(p.variances, max(lambda, 0))
	}
	return p
}

// project returns the coordinates of row along each component: ⟨row − mean, component⟩.
func (p pca) project(row []float32) []float64 {
	out := make([]float64, len(p.components))
	for j, u := range p.components {
		s := 0.0
		for c, x := range row {
			s += float64((float64(x) - p.mean[c]) * u[c])
		}
		out[j] = s
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		s += float64(x * b[i])
	}
	return s
}

// normalize scales v to unit length and returns its former length (0: v is left as it is).
func normalize(v []float64) float64 {
	n := math.Sqrt(dot(v, v))
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0
	}
	for i := range v {
		v[i] /= n
	}
	return n
}

// fixSign negates u if its largest-magnitude entry (the first of equals) is negative.
func fixSign(u []float64) {
	best := 0
	for i, x := range u {
		if math.Abs(x) > math.Abs(u[best]) {
			best = i
		}
	}
	if u[best] < 0 {
		for i := range u {
			u[i] = -u[i]
		}
	}
}
