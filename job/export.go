package job

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// ExportStats says what Export wrote.
type ExportStats struct {
	Items, Failed, Tokens, Patches int
}

// Export writes the index's encoded items to path in the single-file contract of encode -o
// FILE.safetensors, in input order: pooler_output, deepstack_features.K, last_hidden_state,
// grid_thw, with the provenance metadata of a plain encode (the manifest's, and "items" the
// inputs' paths as the workers opened them). Failed inputs are left out, as encode
// -keep-going leaves them out. The rows are copied from the shards one tensor at a time, so
// memory holds the index, not the features; the file is written atomically.
func (ix *Index) Export(path string) (ExportStats, error) {
	var st ExportStats
	var ok []Located
	for _, e := range ix.Entries {
		if e.Status == StatusOK {
			ok = append(ok, e)
		} else {
			st.Failed++
		}
	}
	if len(ok) == 0 {
		return st, fmt.Errorf("no input was encoded (%d failed)", st.Failed)
	}
	files := map[string]*safetensors.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	shard := func(e Located) (*safetensors.File, error) {
		p := filepath.Join(e.Dir, e.Shard)
		if f, ok := files[p]; ok {
			return f, nil
		}
		f, err := safetensors.Open(p)
		if err != nil {
			return nil, err
		}
		files[p] = f
		return f, nil
	}
	// The widths from the first shard; every shard is checked against them.
	first, err := shard(ok[0])
	if err != nil {
		return st, err
	}
	names := []string{pipeline.PoolerName}
	for k := 0; ; k++ {
		n := pipeline.DeepstackPrefix + strconv.Itoa(k)
		if _, found := first.Info(n); !found {
			break
		}
		names = append(names, n)
	}
	names = append(names, pipeline.LastHiddenName)
	cols := make([]int, len(names))
	for i, n := range names {
		info, found := first.Info(n)
		if !found || len(info.Shape) != 2 || info.DType != safetensors.F32 {
			return st, fmt.Errorf("%s: no float32 matrix %s", first.Path(), n)
		}
		cols[i] = info.Shape[1]
	}
	grids := make([]int64, 0, 3*len(ok))
	itemNames := make([]string, len(ok))
	for i, e := range ok {
		// The index's grid is the shard's own.
		f, err := shard(e)
		if err != nil {
			return st, err
		}
		g, err := f.Int64(pipeline.GridName)
		if err != nil {
			return st, err
		}
		if e.Item < 0 || 3*e.Item+3 > len(g) || [3]int{int(g[3*e.Item]), int(g[3*e.Item+1]), int(g[3*e.Item+2])} != e.Grid {
			return st, fmt.Errorf("%s: item %d is not the grid %v the index gives %s", f.Path(), e.Item, e.Grid, e.Key)
		}
		st.Tokens += e.Tokens[1] - e.Tokens[0]
		st.Patches += e.Patches[1] - e.Patches[0]
		grids = append(grids, int64(e.Grid[0]), int64(e.Grid[1]), int64(e.Grid[2]))
		itemNames[i] = e.Path
	}
	st.Items = len(ok)
	tensors := make([]safetensors.Tensor, 0, len(names)+1)
	for i, n := range names {
		rows := st.Tokens
		if n == pipeline.LastHiddenName {
			rows = st.Patches
		}
		tensors = append(tensors, safetensors.Tensor{Name: n, DType: safetensors.F32, Shape: []int{rows, cols[i]}})
	}
	grid := safetensors.I64Tensor(pipeline.GridName, []int{len(ok), 3}, grids)
	tensors = append(tensors, grid)
	md := map[string]string{}
	for k, v := range ix.Manifest.Metadata {
		md[k] = v
	}
	list, err := json.Marshal(itemNames)
	if err != nil {
		return st, err
	}
	md["items"] = string(list)
	header, err := safetensors.EncodeHeader(tensors, md)
	if err != nil {
		return st, err
	}
	err = fsutil.WriteFile(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		for i, n := range names {
			for _, e := range ok {
				f, err := shard(e)
				if err != nil {
					return err
				}
				b, err := f.Bytes(n)
				if err != nil {
					return err
				}
				info, _ := f.Info(n)
				r := e.Tokens
				if n == pipeline.LastHiddenName {
					r = e.Patches
				}
				if len(info.Shape) != 2 || info.Shape[1] != cols[i] || r[0] < 0 || r[1] < r[0] || r[1] > info.Shape[0] {
					return fmt.Errorf("%s: %s of %s: rows %v do not fit %v (want %d columns)", f.Path(), n, e.Key, r, info.Shape, cols[i])
				}
				w4 := 4 * cols[i]
				if _, err := w.Write(b[r[0]*w4 : r[1]*w4]); err != nil {
					return err
				}
			}
		}
		_, err := w.Write(grid.Data)
		return err
	})
	return st, err
}
