package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// outputFormats are the values of encode's -format.
var outputFormats = []string{"safetensors", "npy", "jsonl", "vllm"}

func isOutputFormat(f string) bool { return slices.Contains(outputFormats, f) }

// writeOutput writes res in the given format to path.
func writeOutput(format, path string, res *encodeResult, features bool, stdout io.Writer) error {
	switch format {
	case "safetensors":
		return safetensors.WriteFile(path, outputTensors(res), map[string]string{"format": "pt", "producer": "qwen3vl"})
	case "vllm":
		return safetensors.WriteFile(path, vllmTensors(res), map[string]string{"format": "pt", "producer": "qwen3vl", "layout": "vllm image_embeds [tokens, O·(1+deepstack)]"})
	case "npy":
		return writeNpyDir(path, outputTensors(res))
	case "jsonl":
		if path == "-" {
			return writeJSONL(stdout, res, features)
		}
		return writeFileAtomic(path, func(w io.Writer) error { return writeJSONL(w, res, features) })
	}
	return fmt.Errorf("unknown format %q", format)
}

func gridTensor(name string, grids []vision.Grid) safetensors.Tensor {
	g := make([]int64, 0, 3*len(grids))
	for _, x := range grids {
		g = append(g, int64(x.T), int64(x.H), int64(x.W))
	}
	return safetensors.I64Tensor(name, []int{len(grids), 3}, g)
}

// outputTensors lays out the results as the safetensors contract of `qwen3vl encode`:
// pooler_output, deepstack_features.0…k−1, last_hidden_state (float32), grid_thw (int64).
func outputTensors(res *encodeResult) []safetensors.Tensor {
	ts := []safetensors.Tensor{matrixTensor("pooler_output", res.pooler)}
	for k, d := range res.deepstack {
		ts = append(ts, matrixTensor("deepstack_features."+strconv.Itoa(k), d))
	}
	ts = append(ts, matrixTensor("last_hidden_state", res.last))
	ts = append(ts, gridTensor("grid_thw", res.grids))
	for i, t := range res.timestamps {
		if t != nil {
			ts = append(ts, f64Tensor("timestamps."+strconv.Itoa(i), t))
		}
	}
	return ts
}

// f64Tensor is a float64 vector (a video item's temporal-group times, in seconds).
func f64Tensor(name string, v []float64) safetensors.Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.F64, Shape: []int{len(v)}, Data: b}
}

// vllmTensors lays out the results as vLLM's precomputed image embeddings for Qwen3-VL:
// image_embeds [tokens, O·(1+k)] with each row [pooler | deepstack 0 | … | deepstack k−1] (the
// layout vLLM's Qwen3-VL vision module returns and splits again before the text model), and
// image_grid_thw [items, 3].
func vllmTensors(res *encodeResult) []safetensors.Tensor {
	o := res.pooler.Cols
	width := o * (1 + len(res.deepstack))
	data := make([]float32, res.pooler.Rows*width)
	for r := 0; r < res.pooler.Rows; r++ {
		row := data[r*width : (r+1)*width]
		copy(row, res.pooler.Row(r))
		for k, d := range res.deepstack {
			copy(row[(k+1)*o:], d.Row(r))
		}
	}
	return []safetensors.Tensor{
		safetensors.F32Tensor("image_embeds", []int{res.pooler.Rows, width}, data),
		gridTensor("image_grid_thw", res.grids),
	}
}

func matrixTensor(name string, x vision.Matrix) safetensors.Tensor {
	return safetensors.F32Tensor(name, []int{x.Rows, x.Cols}, x.Data)
}

// writeNpyDir writes each tensor as NAME.npy into the folder dir, atomically: into a temporary
// sibling folder first, renamed into place at the end. An existing dir is an error.
func writeNpyDir(dir string, ts []safetensors.Tensor) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists (npy output is a new folder)", dir)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, t := range ts {
		if err := writeNpy(filepath.Join(tmp, t.Name+".npy"), t); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// writeNpy writes one tensor in NumPy's .npy format, version 1.0: magic, a little-endian
// header length, a Python dict literal padded with spaces to a multiple of 64 bytes, the data.
func writeNpy(path string, t safetensors.Tensor) error {
	descr := map[safetensors.DType]string{safetensors.F32: "<f4", safetensors.F64: "<f8", safetensors.I64: "<i8"}[t.DType]
	if descr == "" {
		return fmt.Errorf("npy: dtype %s not supported", t.DType)
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	w.Write(t.Data)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
func writeJSONL(w io.Writer, res *encodeResult, features bool) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	tok, patch := 0, 0
	for i, g := range res.grids {
		n := g.Patches()
		t := n * res.pooler.Rows / max(res.last.Rows, 1)
		it := jsonItem{Item: i, Grid: [3]int{g.T, g.H, g.W}, Tokens: t, Kind: "image"}
		if i < len(res.files) {
			it.File = res.files[i]
		}
		if i < len(res.timestamps) && res.timestamps[i] != nil {
			it.Kind, it.Timestamps = "video", res.timestamps[i]
		}
		it.Shapes.Pooler = [2]int{t, res.pooler.Cols}
		it.Shapes.Last = [2]int{n, res.last.Cols}
		for _, d := range res.deepstack {
			it.Shapes.Deepstack = append(it.Shapes.Deepstack, [2]int{t, d.Cols})
		}
		if features {
			it.Pooler = rows(res.pooler, tok, t)
			for _, d := range res.deepstack {
				it.Deepstack = append(it.Deepstack, rows(d, tok, t))
			}
		}
		if err := enc.Encode(it); err != nil {
			return err
		}
		tok += t
		patch += n
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

// writeFileAtomic writes path through a temporary file in the same folder, renamed into place
// only when write succeeded.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
