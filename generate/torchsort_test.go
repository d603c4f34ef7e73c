package generate

import (
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
