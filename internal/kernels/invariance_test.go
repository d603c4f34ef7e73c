package kernels

import (
	"math"
	"testing"
)

// TestLinearRowInvariance checks that a row's output does not depend on which other rows are
// computed with it (how many, where it falls in the blocking, how threads split the work): the
// server batches several requests into one call and promises each exactly its lone result.
func TestLinearRowInvariance(t *testing.T) {
	for _, sh := range []struct{ out, in int }{{200, 64}, {96, 256}, {1024, 1536}, {72, 37}} {
		w := make([]float32, sh.out*sh.in)
		bias := make([]float32, sh.out)
		for i := range w {
			w[i] = float32(math.Sin(float64(i)*0.37)) * 0.1
		}
		for i := range bias {
			bias[i] = float32(i%7) * 0.01
		}
		l, err := NewLinear(w, bias, sh.out, sh.in)
		if err != nil {
			t.Fatal(err)
		}
		const m = 23
		x := make([]float32, m*sh.in)
		for i := range x {
			x[i] = float32(math.Cos(float64(i) * 0.11))
		}
		all := make([]float32, m*sh.out)
		l.Forward(all, x, m, 3)
		for _, rows := range [][2]int{{0, 1}, {5, 6}, {4, 9}, {17, 23}, {1, 20}} {
			n := rows[1] - rows[0]
			part := make([]float32, n*sh.out)
			l.Forward(part, x[rows[0]*sh.in:rows[1]*sh.in], n, 1)
			for i := range part {
				if math.Float32bits(part[i]) != math.Float32bits(all[rows[0]*sh.out+i]) {
					t.Fatalf("[%d,%d]: rows %v computed alone differ from the batch at %d: %v vs %v", sh.out, sh.in, rows, i, part[i], all[rows[0]*sh.out+i])
				}
			}
		}
	}
}
