package kernels

import (
	"math"
	"testing"
)

// TestLinearRowInvariance checks that a row's output does not depend on which other rows are
// computed with it (how many, where it falls in the blocking, how threads split the work): the
// server batches several requests into one call and promises each exactly its lone result.
//
// The batches are long enough to be cut into several row blocks: 440 rows make three blocks of
// 150 in the avx2+fma GEMM (mcMax = 216 rows at most per block, blocks evenly sized) and 648
// rows three of exactly 216; the generic one cuts every gemmRows = 32 rows. The rows computed
// alone start and end on both sides of those boundaries (215, 216, 217, 432, 433, …), run across
// several of them, and include the batch's short tail, each alone cut into blocks of its own.
// The shapes have K past one K-block (kcMax = 320) and outputs past one panel chunk.
func TestLinearRowInvariance(t *testing.T) {
	for _, sh := range []struct{ out, in int }{{200, 64}, {96, 256}, {520, 700}, {72, 37}} {
		w := make([]float32, sh.out*sh.in)
		bias := make([]float32, sh.out)
		for i := range w {
			w[i] = float32(math.Sin(float64(i)*0.37)) * 0.1
		}
		for i := range bias {
			bias[i] = float32(i%7) * 0.01
		}
		for _, im := range impls {
			l, err := newLinear(im, w, bias, sh.out, sh.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []int{440, 648} {
				x := make([]float32, m*sh.in)
				for i := range x {
					x[i] = float32(math.Cos(float64(i) * 0.11))
				}
				parts := [][2]int{{0, 1}, {0, 216}, {0, 217}, {149, 151}, {150, 300}, {210, 222},
					{215, 217}, {216, 433}, {216, 432}, {217, 434}, {100, 400}, {1, m - 1},
					{430, 440}, {433, 440}, {439, 440}, {m - 7, m}}
				for _, threads := range []int{2, 3} {
					all := make([]float32, m*sh.out)
					l.Forward(all, x, m, threads)
					for _, rows := range parts {
						n := rows[1] - rows[0]
						part := make([]float32, n*sh.out)
						l.Forward(part, x[rows[0]*sh.in:rows[1]*sh.in], n, 1)
						for i := range part {
							if math.Float32bits(part[i]) != math.Float32bits(all[rows[0]*sh.out+i]) {
								t.Fatalf("%s [%d,%d]: rows %v computed alone differ from the batch of %d on %d threads at row %d, column %d: %v vs %v",
									im.name, sh.out, sh.in, rows, m, threads, rows[0]+i/sh.out, i%sh.out, part[i], all[rows[0]*sh.out+i])
							}
						}
					}
				}
			}
		}
	}
}
