package text

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"sort"
	"testing"
)

// TestTopKMatchesTorch: topK's order, ties, NaN and infinities included, is torch.topk's on
// every row of testdata/text/topk_ties.json (tools/reference/topk_goldens.py), for row lengths
// and k on both sides of torch's switch between nth_element and partial_sort.
func TestTopKMatchesTorch(t *testing.T) {
	data, err := os.ReadFile("../testdata/text/topk_ties.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			N, K    int
			Rows    [][]any
			Indices [][]int32
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	rows, partial := 0, 0
	for _, g := range doc.Groups {
		if g.K*64 <= g.N {
			partial++
		}
		for r, raw := range g.Rows {
			vals := make([]float32, len(raw))
			for i, v := range raw {
				switch v := v.(type) {
				case nil:
					vals[i] = float32(math.NaN())
				case string:
					vals[i] = float32(math.Inf(map[string]int{"inf": 1, "-inf": -1}[v]))
				case float64:
					vals[i] = float32(v)
				}
			}
			got := topK(vals, g.K, make([]int32, len(vals)))
			if !slices.Equal(got, g.Indices[r]) {
				t.Errorf("n %d k %d row %d: %v, torch %v", g.N, g.K, r, got, g.Indices[r])
			}
			rows++
		}
	}
	if rows == 0 || partial == 0 || partial == len(doc.Groups) {
		t.Fatalf("%d rows, %d of %d groups on the partial_sort path: the goldens do not cover both paths", rows, partial, len(doc.Groups))
	}
}

// TestTopKDistinct: without ties topK is the k largest in descending order, for every k.
func TestTopKDistinct(t *testing.T) {
	for _, n := range []int{1, 2, 7, 16, 17, 64, 100, 300} {
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32((i*7919)%n) - float32(n)/3
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		sort.Slice(want, func(a, b int) bool { return vals[want[a]] > vals[want[b]] })
		for k := 1; k <= n; k++ {
			if got := topK(vals, k, make([]int32, n)); !slices.Equal(got, want[:k]) {
				t.Fatalf("n %d k %d: %v, want %v", n, k, got, want[:k])
			}
		}
	}
}
