package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

func runEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("encode", "encode -model DIR|random:PRESET -o OUT.safetensors (IMAGE... | -pixels P.safetensors)", stderr)
	model := fs.String("model", hub.DefaultModel, "checkpoint folder (config.json + safetensors), hub id Org/Name[@revision], or random:PRESET[@SEED] for synthetic weights")
	pixelsPath := fs.String("pixels", "", "safetensors file with pixel_values (float32 [N,1536]) and grid_thw (int64 [items,3]), as the Hugging Face processor returns them")
	outPath := fs.String("o", "", "output safetensors file: pooler_output, deepstack_features.K, last_hidden_state, grid_thw")
	threads := fs.Int("threads", 0, "goroutines for the kernels (0: all CPUs)")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pixelsPath == "" && fs.NArg() == 0 {
		return usagef("no input: give image files (or folders, globs) or -pixels")
	}
	if *pixelsPath != "" && fs.NArg() > 0 {
		return usagef("give either image files or -pixels, not both")
	}
	if *outPath == "" {
		return usagef("-o is required")
	}
	if *threads < 0 {
		return usagef("-threads %d: must be ≥ 0", *threads)
	}
	var pixels []float32
	var grids []vision.Grid
	if *pixelsPath != "" {
		var err error
		if pixels, grids, err = readPixels(*pixelsPath); err != nil {
			return err
		}
	} else {
		opts, err := imf.options(*model)
		if err != nil {
			return err
		}
		files, err := expandInputs(fs.Args())
		if err != nil {
			return err
		}
		if pixels, grids, _, err = preprocessFiles(files, opts); err != nil {
			return err
		}
	}
	start := time.Now()
	m, err := loadModel(ctx, *model, *threads, stderr)
	if err != nil {
		return err
	}
	loaded := time.Now()
	out, err := m.Encode(ctx, pixels, grids)
	if err != nil {
		return err
	}
	encoded := time.Now()
	if err := safetensors.WriteFile(*outPath, outputTensors(out), map[string]string{"format": "pt", "producer": "qwen3vl"}); err != nil {
		return err
	}
	secs := encoded.Sub(loaded).Seconds()
	flops := vision.FLOPs(m.Config(), grids)
	fmt.Fprintf(stderr, "qwen3vl: %d items, %d patches → %d tokens; load %.2fs, encode %.2fs (%.1f GFLOP/s); wrote %s\n",
		len(grids), out.LastHidden.Rows, out.Pooler.Rows, loaded.Sub(start).Seconds(), secs, float64(flops)/secs/1e9, *outPath)
	return nil
}

// readPixels reads pixel_values and grid_thw from a safetensors file.
func readPixels(path string) ([]float32, []vision.Grid, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, ok := f.Info("pixel_values")
	if !ok {
		return nil, nil, fmt.Errorf("%s: no tensor pixel_values", path)
	}
	if len(info.Shape) != 2 {
		return nil, nil, fmt.Errorf("%s: pixel_values has shape %v, want [N, 1536]", path, info.Shape)
	}
	if _, ok := f.Info("grid_thw"); !ok {
		return nil, nil, fmt.Errorf("%s: no tensor grid_thw", path)
	}
	gi, _ := f.Info("grid_thw")
	if len(gi.Shape) != 2 || gi.Shape[1] != 3 {
		return nil, nil, fmt.Errorf("%s: grid_thw has shape %v, want [items, 3]", path, gi.Shape)
	}
	pixels, err := f.Float32("pixel_values")
	if err != nil {
		return nil, nil, err
	}
	g, err := f.Int64("grid_thw")
	if err != nil {
		return nil, nil, err
	}
	grids := make([]vision.Grid, len(g)/3)
	for i := range grids {
		t, h, w := g[3*i], g[3*i+1], g[3*i+2]
		const limit = 1 << 30
		if t < 1 || h < 1 || w < 1 || t > limit || h > limit || w > limit {
			return nil, nil, fmt.Errorf("%s: grid_thw row %d = [%d %d %d] is out of range", path, i, t, h, w)
		}
		grids[i] = vision.Grid{T: int(t), H: int(h), W: int(w)}
	}
	return pixels, grids, nil
}

// outputTensors lays out an Output as the safetensors contract of `qwen3vl encode`:
// pooler_output, deepstack_features.0…k−1, last_hidden_state (float32), grid_thw (int64).
func outputTensors(out *vision.Output) []safetensors.Tensor {
	ts := []safetensors.Tensor{matrixTensor("pooler_output", out.Pooler)}
	for k, d := range out.Deepstack {
		ts = append(ts, matrixTensor("deepstack_features."+strconv.Itoa(k), d))
	}
	ts = append(ts, matrixTensor("last_hidden_state", out.LastHidden))
	grid := make([]int64, 0, 3*len(out.Grids))
	for _, g := range out.Grids {
		grid = append(grid, int64(g.T), int64(g.H), int64(g.W))
	}
	return append(ts, safetensors.I64Tensor("grid_thw", []int{len(out.Grids), 3}, grid))
}

func matrixTensor(name string, x vision.Matrix) safetensors.Tensor {
	return safetensors.F32Tensor(name, []int{x.Rows, x.Cols}, x.Data)
}
