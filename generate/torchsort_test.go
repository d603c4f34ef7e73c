package generate

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// TestTorchSortGolden checks the order among equal values against torch.sort itself.
func TestTorchSortGolden(t *testing.T) {
	type line struct {
		N       int     `json:"n"`
		Values  []f32   `json:"values"`
		Indices []int32 `json:"indices"`
	}
	lines := readJSONL[line](t, filepath.Join("..", "testdata", "generate", "sort.jsonl"))
	if len(lines) == 0 {
		t.Fatal("no cases")
	}
	for _, l := range lines {
		v := make([]float32, l.N)
		for i, x := range l.Values {
			v[i] = float32(x)
		}
		idx := make([]int32, l.N)
		for i := range idx {
			idx[i] = int32(i)
		}
		torchSort(idx, v)
		if !slices.Equal(idx, l.Indices) {
			i := 0
			for idx[i] == l.Indices[i] {
				i++
			}
			t.Errorf("n=%d: first difference at %d: %d, torch %d", l.N, i, idx[i], l.Indices[i])
		}
	}
}

// TestTorchSortSorts checks, against the standard library's sort, that every path
// (insertion sort, partitions, and the heapsort fallback forced by a zero depth) sorts.
func TestTorchSortSorts(t *testing.T) {
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
				s := sorter{idx: idx, key: v}
				s.introsortLoop(0, n, 0)
				s.finalInsertionSort(0, n)
			} else {
				torchSort(idx, v)
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
