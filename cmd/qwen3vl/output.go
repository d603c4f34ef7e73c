package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/npy"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// outputFormats are the values of encode's -format.
var outputFormats = []string{"safetensors", "npy", "jsonl", "vllm", "vllm-json", "vllm-ec"}

func isOutputFormat(f string) bool { return slices.Contains(outputFormats, f) }

// writeOutput writes f in the given format to path, with md (provenance) in the header of a
// safetensors file.
func writeOutput(format, path string, f pipeline.Features, md map[string]string, features bool, stdout io.Writer) error {
	switch format {
	case "safetensors":
		return safetensors.WriteFile(path, f.Tensors(), md)
	case "vllm":
		md["layout"] = "vllm image_embeds [tokens, O·(1+deepstack)]"
		return safetensors.WriteFile(path, f.VLLMTensors(), md)
	case "vllm-json":
		if path == "-" {
			return f.WriteVLLMJSON(stdout)
		}
		return fsutil.WriteFile(path, f.WriteVLLMJSON)
	case "npy":
		return writeNpyDir(path, f.Tensors())
	case "jsonl":
		if path == "-" {
			return writeJSONL(stdout, f, features)
		}
		return fsutil.WriteFile(path, func(w io.Writer) error { return writeJSONL(w, f, features) })
	}
	return fmt.Errorf("unknown format %q", format)
}

// checkOutput refuses, before any work, an output path that cannot be written: its folder is
// missing, it is a folder where a file is wanted (or exists where npy wants a new folder), or
// it is one of the inputs.
func checkOutput(format, path string, inputs []string) error {
	if path == "-" {
		return nil
	}
	parent := filepath.Dir(filepath.Clean(path)) // "out/" is the folder out
	if fi, err := os.Stat(parent); err != nil {
		return usagef("-o %s: the folder %s does not exist", path, parent)
	} else if !fi.IsDir() {
		return usagef("-o %s: %s is not a folder", path, parent)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil // a new file or folder
	case format == "vllm-ec" && !fi.IsDir():
		return usagef("-o %s is not a folder (-format vllm-ec writes into an encoder-cache root)", path)
	case format == "vllm-ec":
		return nil
	case format == "npy":
		return usagef("-o %s already exists (npy output is a new folder)", path)
	case fi.IsDir():
		return usagef("-o %s is a folder (want a file for -format %s)", path, format)
	}
	for _, in := range inputs {
		if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
			return usagef("-o %s is the input %s: refusing to overwrite it", path, in)
		}
	}
	return nil
}

// writeNpyDir writes each tensor as NAME.npy into the folder dir, atomically: into a temporary
// sibling folder first (each file written and synced as fsutil does), renamed into place at the
// end. An existing dir is an error.
func writeNpyDir(dir string, ts []safetensors.Tensor) error {
	dir = filepath.Clean(dir) // "out/" is the folder out
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists (npy output is a new folder)", dir)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, t := range ts {
		if err := fsutil.WriteFile(filepath.Join(tmp, t.Name+".npy"), func(w io.Writer) error { return writeNpy(w, t) }); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	fsutil.SyncDir(filepath.Dir(dir))
	return nil
}

// writeNpy writes one tensor in NumPy's .npy format, version 1.0 (see internal/npy).
func writeNpy(w io.Writer, t safetensors.Tensor) error {
	descr := map[safetensors.DType]npy.Descr{safetensors.F32: npy.F32, safetensors.F64: npy.F64, safetensors.I64: npy.I64}[t.DType]
	if descr == "" {
		return fmt.Errorf("npy: dtype %s not supported", t.DType)
	}
	h, err := npy.Header(descr, t.Shape, len(t.Data))
	if err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err = w.Write(t.Data)
	return err
}

// jsonItem is one line of the jsonl output.
type jsonItem struct {
	Item       int           `json:"item"`
	File       string        `json:"file,omitempty"`
	Kind       string        `json:"kind"`
	Timestamps []float64     `json:"timestamps,omitempty"`
	Grid       [3]int        `json:"grid_thw"`
	Tokens     int           `json:"tokens"`
	Shapes     jsonShapes    `json:"shapes"`
	Pooler     [][]float32   `json:"pooler_output,omitempty"`
	Deepstack  [][][]float32 `json:"deepstack_features,omitempty"`
}

type jsonShapes struct {
	Pooler    [2]int   `json:"pooler_output"`
	Deepstack [][2]int `json:"deepstack_features"`
	Last      [2]int   `json:"last_hidden_state"`
}

// writeJSONL writes one JSON object per item: its file, grid, token count and output shapes, and
// with features its pooler and DeepStack rows.
func writeJSONL(w io.Writer, f pipeline.Features, features bool) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i, item := range f.Items {
		g := item.Grid
		tok, t := f.Tokens(i)
		it := jsonItem{Item: i, Grid: [3]int{g.T, g.H, g.W}, Tokens: t, Kind: "image"}
		it.File = item.File
		if item.Video {
			it.Kind, it.Timestamps = "video", item.Timestamps
		}
		it.Shapes.Pooler = [2]int{t, f.Pooler.Cols}
		it.Shapes.Last = [2]int{g.Patches(), f.LastHidden.Cols}
		for _, d := range f.Deepstack {
			it.Shapes.Deepstack = append(it.Shapes.Deepstack, [2]int{t, d.Cols})
		}
		if features {
			it.Pooler = rows(f.Pooler, tok, t)
			for _, d := range f.Deepstack {
				it.Deepstack = append(it.Deepstack, rows(d, tok, t))
			}
		}
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func rows(x vision.Matrix, from, n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		r := x.Row(from + i)
		for _, v := range r {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				r = nil // JSON has no NaN; such a row is left out
				break
			}
		}
		out[i] = r
	}
	return out
}
