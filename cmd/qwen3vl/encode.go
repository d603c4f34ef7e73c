package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
	"golang.org/x/term"
)

func runEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("encode", "encode [-model M] [-format F] -o OUT (IMAGE... | -pixels P.safetensors)", stderr)
	model := fs.String("model", hub.DefaultModel, "checkpoint folder (config.json + safetensors), hub id Org/Name[@revision], or random:PRESET[@SEED] for synthetic weights")
	pixelsPath := fs.String("pixels", "", "safetensors file with pixel_values (float32 [N,1536]) and grid_thw (int64 [items,3]), as the Hugging Face processor returns them")
	outPath := fs.String("o", "", "output: a file (safetensors, vllm, jsonl; - for stdout with jsonl) or a folder (npy)")
	format := fs.String("format", "safetensors", "output format: "+strings.Join(outputFormats, ", "))
	features := fs.Bool("features", false, "jsonl: include the feature values, not only grids and shapes")
	threads := fs.Int("threads", 0, "goroutines for the kernels (0: all CPUs)")
	quiet := fs.Bool("q", false, "no progress or summary on stderr")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *pixelsPath == "" && fs.NArg() == 0:
		return usagef("no input: give image files (or folders, globs) or -pixels")
	case *pixelsPath != "" && fs.NArg() > 0:
		return usagef("give either image files or -pixels, not both")
	case *outPath == "":
		return usagef("-o is required")
	case *threads < 0:
		return usagef("-threads %d: must be ≥ 0", *threads)
	case !isOutputFormat(*format):
		return usagef("-format %q: want one of %s", *format, strings.Join(outputFormats, ", "))
	case *outPath == "-" && *format != "jsonl":
		return usagef("-o - (stdout) is only for -format jsonl")
	}
	var files []string
	if *pixelsPath == "" {
		var err error
		if files, err = expandInputs(fs.Args()); err != nil {
			return err
		}
	}
	start := time.Now()
	m, dir, err := loadModel(ctx, *model, *threads, stderr)
	if err != nil {
		return err
	}
	loadSecs := time.Since(start).Seconds()
	res := &encodeResult{}
	encStart := time.Now()
	var flops int64
	if *pixelsPath != "" {
		pixels, grids, err := readPixels(*pixelsPath)
		if err != nil {
			return err
		}
		out, err := m.Encode(ctx, pixels, grids)
		if err != nil {
			return err
		}
		res.add(out, nil)
		flops = vision.FLOPs(m.Config(), grids)
	} else {
		opts, err := imf.options(dir)
		if err != nil {
			return err
		}
		prog := newProgress(stderr, len(files), !*quiet && isTerminal(stderr))
		for _, f := range files {
			img, err := imageproc.PreprocessFile(f, opts)
			if err != nil {
				prog.done()
				return err
			}
			g := vision.Grid{T: img.Grid[0], H: img.Grid[1], W: img.Grid[2]}
			out, err := m.Encode(ctx, img.Pixels, []vision.Grid{g})
			if err != nil {
				prog.done()
				return fmt.Errorf("%s: %w", f, err)
			}
			res.add(out, []string{f})
			flops += vision.FLOPs(m.Config(), []vision.Grid{g})
			prog.step()
		}
		prog.done()
	}
	secs := time.Since(encStart).Seconds()
	if err := writeOutput(*format, *outPath, res, *features, stdout); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "qwen3vl: %d items, %d patches → %d tokens; load %.2fs, encode %.2fs (%.1f GFLOP/s); wrote %s (%s)\n",
			len(res.grids), res.last.Rows, res.pooler.Rows, loadSecs, secs, float64(flops)/secs/1e9, *outPath, *format)
	}
	return nil
}

// encodeResult accumulates the outputs of several Encode calls, rows in input order.
type encodeResult struct {
	pooler, last vision.Matrix
	deepstack    []vision.Matrix
	grids        []vision.Grid
	files        []string // one per item when the inputs were files
}

func (r *encodeResult) add(out *vision.Output, files []string) {
	appendRows := func(dst *vision.Matrix, src vision.Matrix) {
		dst.Cols = src.Cols
		dst.Rows += src.Rows
		dst.Data = append(dst.Data, src.Data...)
	}
	appendRows(&r.pooler, out.Pooler)
	appendRows(&r.last, out.LastHidden)
	if r.deepstack == nil {
		r.deepstack = make([]vision.Matrix, len(out.Deepstack))
	}
	for k, d := range out.Deepstack {
		appendRows(&r.deepstack[k], d)
	}
	r.grids = append(r.grids, out.Grids...)
	r.files = append(r.files, files...)
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
	gi, ok := f.Info("grid_thw")
	if !ok {
		return nil, nil, fmt.Errorf("%s: no tensor grid_thw", path)
	}
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress prints "items done/total, items/s" on one terminal line.
type progress struct {
	w       io.Writer
	total   int
	n       int
	start   time.Time
	enabled bool
}

func newProgress(w io.Writer, total int, enabled bool) *progress {
	return &progress{w: w, total: total, start: time.Now(), enabled: enabled}
}

func (p *progress) step() {
	p.n++
	if !p.enabled {
		return
	}
	rate := float64(p.n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r[%-30s] %d/%d items, %.2f items/s", strings.Repeat("#", 30*p.n/max(p.total, 1)), p.n, p.total, rate)
}

func (p *progress) done() {
	if p.enabled && p.n > 0 {
		fmt.Fprintln(p.w)
	}
}
