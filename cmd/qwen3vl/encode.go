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
	weights := fs.String("weights", "auto", weightsUsage)
	quiet := fs.Bool("q", false, "no progress or summary on stderr")
	batchPatches := fs.Int("batch-patches", 4096, "encode consecutive inputs together, up to this many patches per call (more rows keep the kernels busier; a larger input runs alone; 1: one input per call). The outputs do not change")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *pixelsPath == "" && fs.NArg() == 0 && len(imf.videos) == 0:
		return usagef("no input: give image files (or folders, globs), -video, or -pixels")
	case *pixelsPath != "" && (fs.NArg() > 0 || len(imf.videos) > 0):
		return usagef("give either image/video files or -pixels, not both")
	case *outPath == "":
		return usagef("-o is required")
	case *threads < 0:
		return usagef("-threads %d: must be ≥ 0", *threads)
	case *batchPatches < 1:
		return usagef("-batch-patches %d: must be ≥ 1", *batchPatches)
	case !isOutputFormat(*format):
		return usagef("-format %q: want one of %s", *format, strings.Join(outputFormats, ", "))
	case *outPath == "-" && *format != "jsonl":
		return usagef("-o - (stdout) is only for -format jsonl")
	}
	wmode, err := parseWeights(*weights)
	if err != nil {
		return err
	}
	// Inputs are read before the model, so a bad input file fails before weights are loaded.
	var items []input
	var pixels []float32
	var grids []vision.Grid
	if *pixelsPath == "" {
		var err error
		if items, err = imf.collectInputs(fs.Args()); err != nil {
			return err
		}
	} else {
		var err error
		if pixels, grids, err = readPixels(*pixelsPath); err != nil {
			return err
		}
	}
	start := time.Now()
	m, dir, err := loadModel(ctx, *model, vision.Options{Threads: *threads, Weights: wmode}, stderr)
	if err != nil {
		return err
	}
	loadSecs := time.Since(start).Seconds()
	res := &encodeResult{}
	encStart := time.Now()
	var flops int64
	if *pixelsPath != "" {
		out, err := m.Encode(ctx, pixels, grids)
		if err != nil {
			return err
		}
		res.add(out, nil, nil)
		flops = vision.FLOPs(m.Config(), grids)
	} else {
		opts, err := imf.options(dir)
		if err != nil {
			return err
		}
		vopts, err := imf.videoOptions(dir)
		if err != nil {
			return err
		}
		prog := newProgress(stderr, len(items), !*quiet && isTerminal(stderr))
		// Consecutive inputs are encoded together up to -batch-patches: Encode of several
		// items returns, bit for bit, what encoding each alone would (the rows of one item
		// never mix with another's), in order, so only the speed changes.
		var b batch
		flush := func() error {
			if len(b.grids) == 0 {
				return nil
			}
			out, err := m.Encode(vision.WithProgress(ctx, prog.blocks), b.pixels, b.grids)
			if err != nil {
				return fmt.Errorf("%s: %w", strings.Join(b.files, ", "), err)
			}
			res.add(out, b.files, b.timestamps)
			flops += vision.FLOPs(m.Config(), b.grids)
			for range b.files {
				prog.step()
			}
			b = batch{pixels: b.pixels[:0]}
			return nil
		}
		for _, it := range items {
			pixels, grid, timestamps, err := preprocessItem(ctx, it, opts, vopts, stderr)
			if err != nil {
				prog.done()
				return err
			}
			if b.patches > 0 && b.patches+grid.Patches() > *batchPatches {
				if err := flush(); err != nil {
					prog.done()
					return err
				}
			}
			b.add(it.path, pixels, grid, timestamps)
		}
		if err := flush(); err != nil {
			prog.done()
			return err
		}
		prog.done()
	}
	secs := time.Since(encStart).Seconds()
	if err := writeOutput(*format, *outPath, res, *features, stdout); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "qwen3vl: %d items, %d patches → %d tokens; load %.2fs (%s weights), encode %.2fs (%.1f GFLOP/s); wrote %s (%s)\n",
			len(res.grids), res.last.Rows, res.pooler.Rows, loadSecs, m.Weights(), secs, float64(flops)/secs/1e9, *outPath, *format)
	}
	return nil
}

// encodeResult accumulates the outputs of several Encode calls, rows in input order.
type encodeResult struct {
	pooler, last vision.Matrix
	deepstack    []vision.Matrix
	grids        []vision.Grid
	files        []string    // one per item when the inputs were files
	timestamps   [][]float64 // one per item when the inputs were files: a video's group times, nil for an image
}

func (r *encodeResult) add(out *vision.Output, files []string, timestamps [][]float64) {
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
	r.timestamps = append(r.timestamps, timestamps...)
}

// batch gathers consecutive inputs for one Encode call.
type batch struct {
	pixels     []float32
	grids      []vision.Grid
	files      []string
	timestamps [][]float64
	patches    int
}

func (b *batch) add(file string, pixels []float32, grid vision.Grid, timestamps []float64) {
	b.pixels = append(b.pixels, pixels...)
	b.grids = append(b.grids, grid)
	b.files = append(b.files, file)
	b.timestamps = append(b.timestamps, timestamps)
	b.patches += grid.Patches()
}

// preprocessItem turns one image or video file into pixel rows, its grid and, for a video, the
// time in seconds of each temporal group. Warnings (a video without frame timing) go to stderr.
func preprocessItem(ctx context.Context, it input, opts imageproc.Options, vopts imageproc.VideoOptions, stderr io.Writer) ([]float32, vision.Grid, []float64, error) {
	if !it.video {
		img, err := imageproc.PreprocessFile(ctx, it.path, opts)
		if err != nil {
			return nil, vision.Grid{}, nil, err
		}
		return img.Pixels, vision.Grid(img.Grid), nil, nil
	}
	v, err := imageproc.PreprocessVideoFile(ctx, it.path, vopts)
	if err != nil {
		return nil, vision.Grid{}, nil, err
	}
	for _, w := range v.Warnings {
		fmt.Fprintf(stderr, "qwen3vl: %s: %s\n", it.path, w)
	}
	return v.Pixels, vision.Grid(v.Grid), v.Timestamps, nil
}

// readPixels reads the items of a safetensors file as the Hugging Face processor returns them:
// pixel_values with image_grid_thw (or grid_thw), then pixel_values_videos with video_grid_thw.
func readPixels(path string) ([]float32, []vision.Grid, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var pixels []float32
	var grids []vision.Grid
	for _, names := range [][]string{{"pixel_values", "image_grid_thw", "grid_thw"}, {"pixel_values_videos", "video_grid_thw"}} {
		if _, ok := f.Info(names[0]); !ok {
			continue
		}
		px, g, err := readItems(f, path, names[0], names[1:])
		if err != nil {
			return nil, nil, err
		}
		pixels = append(pixels, px...)
		grids = append(grids, g...)
	}
	if len(grids) == 0 {
		return nil, nil, fmt.Errorf("%s: no tensor pixel_values (or pixel_values_videos)", path)
	}
	return pixels, grids, nil
}

// readItems reads one pixel tensor and the first of gridNames that the file has.
func readItems(f *safetensors.File, path, pixelName string, gridNames []string) ([]float32, []vision.Grid, error) {
	info, _ := f.Info(pixelName)
	if len(info.Shape) != 2 {
		return nil, nil, fmt.Errorf("%s: %s has shape %v, want [N, 1536]", path, pixelName, info.Shape)
	}
	gridName := ""
	var gi safetensors.TensorInfo
	for _, n := range gridNames {
		if i, ok := f.Info(n); ok {
			gridName, gi = n, i
			break
		}
	}
	if gridName == "" {
		return nil, nil, fmt.Errorf("%s: %s has no grid (want a tensor %s)", path, pixelName, strings.Join(gridNames, " or "))
	}
	if len(gi.Shape) != 2 || gi.Shape[1] != 3 {
		return nil, nil, fmt.Errorf("%s: %s has shape %v, want [items, 3]", path, gridName, gi.Shape)
	}
	pixels, err := f.Float32(pixelName)
	if err != nil {
		return nil, nil, err
	}
	g, err := f.Int64(gridName)
	if err != nil {
		return nil, nil, err
	}
	grids := make([]vision.Grid, len(g)/3)
	for i := range grids {
		t, h, w := g[3*i], g[3*i+1], g[3*i+2]
		const limit = 1 << 30
		if t < 1 || h < 1 || w < 1 || t > limit || h > limit || w > limit {
			return nil, nil, fmt.Errorf("%s: %s row %d = [%d %d %d] is out of range", path, gridName, i, t, h, w)
		}
		grids[i] = vision.Grid{T: int(t), H: int(h), W: int(w)}
	}
	return pixels, grids, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress prints "items done/total, items/s" on one terminal line, and while a call runs
// longer than a second, the transformer blocks it has done.
type progress struct {
	w       io.Writer
	total   int
	n       int
	start   time.Time
	call    time.Time // when the running Encode call's first block report came, or zero
	enabled bool
	printed bool // something is on the line
}

func newProgress(w io.Writer, total int, enabled bool) *progress {
	return &progress{w: w, total: total, start: time.Now(), enabled: enabled}
}

// step records one finished item.
func (p *progress) step() {
	p.n++
	p.call = time.Time{}
	p.print("")
}

// blocks is the vision.WithProgress report of the running Encode call.
func (p *progress) blocks(done, total int) {
	if !p.enabled {
		return
	}
	if p.call.IsZero() {
		p.call = time.Now()
		return
	}
	if time.Since(p.call) > time.Second {
		p.print(fmt.Sprintf(", encoding: block %d/%d", done, total))
	}
}

func (p *progress) print(extra string) {
	if !p.enabled {
		return
	}
	rate := float64(p.n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r[%-30s] %d/%d items, %.2f items/s%s\x1b[K", strings.Repeat("#", 30*p.n/max(p.total, 1)), p.n, p.total, rate, extra)
	p.printed = true
}

func (p *progress) done() {
	if p.printed {
		fmt.Fprintln(p.w)
	}
}
