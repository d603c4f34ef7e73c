package torchorder

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortSorts checks, against the standard library's sort, that every path
// (insertion sort, partitions, and the heapsort fallback forced by a zero depth) sorts.
func TestSortSorts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 15, 16, 17, 31, 64, 1000, 4097} {
		for _, depth := range []int{-1, 0} {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(r.IntN(max(1, n/3)))
				if r.IntN(20) == 0 {
					v[i] = float32(math.Inf(-1))
				}
			}
			idx := make([]int32, n)
			for i := range idx {
				idx[i] = int32(i)
			}
			if depth == 0 && n > 1 {
				p := perm{idx: idx, key: v}
				p.sortDepth(0, n, 0)
			} else {
				Sort(idx, v)
			}
			got := make([]float32, n)
			for i, j := range idx {
				got[i] = v[j]
			}
			want := slices.Clone(v)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("n=%d depth=%d: not sorted", n, depth)
			}
			seen := make([]bool, n)
			for _, j := range idx {
				seen[j] = true
			}
			if slices.Contains(seen, false) {
				t.Errorf("n=%d depth=%d: not a permutation", n, depth)
			}
		}
	}
}
