package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// FuzzReadPixels: any file is read without a panic or a huge allocation, and what is accepted
// is consistent: every item's rows are its grid's patches, the items' rows cover the tensor.
func FuzzReadPixels(f *testing.F) {
	seed := func(rows int, grid []int64, gridName string) []byte {
		var b bytes.Buffer
		ts := []safetensors.Tensor{
			safetensors.F32Tensor(PixelValuesName, []int{rows, 8}, make([]float32, rows*8)),
			safetensors.I64Tensor(gridName, []int{len(grid) / 3, 3}, grid),
		}
		if err := safetensors.Write(&b, ts, nil); err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	f.Add(seed(16, []int64{1, 4, 4}, ImageGridName))
	f.Add(seed(20, []int64{1, 4, 4, 1, 2, 2}, GridName))
	f.Add(seed(16, []int64{4096, 1 << 26, 1 << 26}, ImageGridName)) // wraps to 0 patches in int64
	f.Add(seed(16, []int64{1, 1 << 31, 1 << 31}, ImageGridName))
	f.Add(seed(16, []int64{1, -4, -4}, ImageGridName))
	f.Add([]byte("not a safetensors file"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "p.safetensors")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := ReadPixels(p)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Grid.T < 1 || it.Grid.H < 1 || it.Grid.W < 1 || len(it.Pixels) == 0 || len(it.Pixels)%it.Grid.Patches() != 0 {
				t.Fatalf("item %s: grid %v with %d values", it.Name, it.Grid, len(it.Pixels))
			}
		}
	})
}
