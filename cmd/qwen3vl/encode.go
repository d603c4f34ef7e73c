package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
	"golang.org/x/term"
)

func runEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("encode", "encode [-model M] [-format F] [-o OUT] [-png DIR] (IMAGE... | -list FILE | -pixels P.safetensors)\n       qwen3vl encode [-model M] -o DIR/ [-shard i/n] [-list FILE] (IMAGE|FOLDER|GLOB)...   (a batch job: see -o)", stderr)
	model := fs.String("model", hub.DefaultModel, modelUsage)
	pixelsPath := fs.String("pixels", "", "safetensors file with pixel_values (float32 [N,1536]) and grid_thw (int64 [items,3]), as the Hugging Face processor returns them")
	outPath := fs.String("o", "", "output: a file (safetensors, vllm, jsonl, vllm-json; - for stdout with jsonl and vllm-json) or a new folder (npy); or, for -format safetensors, a batch job's folder: a path ending in /, or a job folder made so before (sharded, resumable: rerun the same command to finish it; see README); or vLLM's encoder-cache root (vllm-ec)")
	format := fs.String("format", "safetensors", "output format: "+strings.Join(outputFormats, ", "))
	pngDir := fs.String("png", "", "also draw each image's feature maps (PCA of pooler_output, each DeepStack level and last_hidden_state as RGB, beside the image as resized) into this folder, as I-NAME.png (I the item's index); made if missing. Images only")
	features := fs.Bool("features", false, "jsonl: include the feature values, not only grids and shapes")
	threads := fs.Int("threads", 0, "goroutines for the kernels (0: all CPUs)")
	weights := fs.String("weights", "auto", weightsUsage)
	compute := fs.String("compute", "f32", computeUsage)
	quiet := fs.Bool("q", false, "no progress or summary on stderr")
	keepGoing := fs.Bool("keep-going", false, "skip an input that cannot be read or preprocessed (reported by name) and encode the rest; the exit status is still 1 if any was skipped")
	batchPatches := fs.Int("batch-patches", 4096, "encode consecutive inputs together, up to this many patches per call (more rows keep the kernels busier; a larger input runs alone; 1: one input per call). The outputs do not change")
	var imf imageFlags
	imf.register(fs)
	fs.StringVar(&imf.list, "list", "", "a file of input paths, one a line (- for stdin), after the positional inputs")
	var jf jobFlags
	jf.register(fs)
	var vf vllmFlags
	vf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if dir, ok := jobOutput(*outPath, *format); ok {
		switch {
		case *pixelsPath != "" || len(imf.videos) > 0:
			return usagef("-o %s is a batch job's folder: it takes images (files, folders, globs, -list), not -pixels or -video", *outPath)
		case *format != "safetensors":
			return usagef("-o %s is a batch job's folder: only -format safetensors", *outPath)
		case *keepGoing:
			return usagef("-keep-going is a batch job's default (failed inputs are recorded in the index; -fail-fast stops at the first)")
		case *features:
			return usagef("-features is for -format jsonl")
		case *pngDir != "":
			return usagef("-png is for a plain encode, not a batch job's folder")
		}
		return runEncodeJob(ctx, encodeJob{
			dir: dir, model: *model, modelGiven: flagGiven(fs, "model"), args: fs.Args(), imf: imf, jf: jf,
			threads: *threads, weights: *weights, compute: *compute, batchPatches: *batchPatches, quiet: *quiet,
		}, stderr)
	}
	if err := jf.refuseOutsideJob(fs); err != nil {
		return err
	}
	switch {
	case *pixelsPath == "" && fs.NArg() == 0 && len(imf.videos) == 0 && imf.list == "":
		return usagef("no input: give image files (or folders, globs), -list, -video, or -pixels")
	case *pixelsPath != "" && (fs.NArg() > 0 || len(imf.videos) > 0 || imf.list != ""):
		return usagef("give either image/video files or -pixels, not both")
	case *outPath == "" && *pngDir == "":
		return usagef("-o is required (or -png DIR alone)")
	case *pngDir != "" && len(imf.videos) > 0:
		return usagef("-png draws images only: no -video")
	case *threads < 0:
		return usagef("-threads %d: must be ≥ 0", *threads)
	case *batchPatches < 1:
		return usagef("-batch-patches %d: must be ≥ 1", *batchPatches)
	case *format == "vllm-json" && len(imf.videos) > 0:
		return usagef("-format vllm-json writes image_embeds parts: videos are not supported")
	case *format == "vllm-ec" && len(imf.videos) > 0:
		return usagef("-format vllm-ec writes image entries: videos are not supported")
	case *format == "vllm-ec" && *pixelsPath != "":
		return usagef("-format vllm-ec hashes the image files as vLLM does: give image files, not -pixels")
	case *format != "vllm-ec" && vf.given(fs):
		return usagef("-vllm-model, -vllm-hash and -vllm-mm-kwargs are for -format vllm-ec")
	case !isOutputFormat(*format):
		return usagef("-format %q: want one of %s", *format, strings.Join(outputFormats, ", "))
	case *outPath == "-" && *format != "jsonl" && *format != "vllm-json":
		return usagef("-o - (stdout) is only for -format jsonl and vllm-json")
	}
	wmode, err := parseWeights(*weights)
	if err != nil {
		return err
	}
	cmode, err := parseCompute(*compute)
	if err != nil {
		return err
	}
	if err := checkCompute(cmode, wmode); err != nil {
		return err
	}
	ov, err := imf.overrides()
	if err != nil {
		return err
	}
	var ec *ecWriter
	if *format == "vllm-ec" {
		if ec, err = vf.writer(*outPath, &ov, stderr); err != nil {
			return err
		}
	}
	spec := pipeline.DefaultSpec()
	if flagGiven(fs, "model") {
		if spec, err = parseSpec(*model); err != nil {
			return err
		}
	}
	// Everything that can be checked is checked before the model is resolved and loaded: the
	// flags, the output path, every input.
	var inputs []pipeline.Input
	var pixelItems []pipeline.Item
	var inputPaths []string
	if *pixelsPath == "" {
		if inputs, err = imf.collectInputs(fs.Args()); err != nil {
			return err
		}
		for _, in := range inputs {
			inputPaths = append(inputPaths, in.Path)
		}
	} else {
		inputPaths = []string{*pixelsPath}
	}
	if *outPath != "" {
		if err := checkOutput(*format, *outPath, inputPaths); err != nil {
			return err
		}
	}
	if *pngDir != "" {
		if err := checkPNGDir(*pngDir); err != nil {
			return err
		}
	}
	total := len(inputs)
	if inputs, err = checkInputs(ctx, inputs, ov, *keepGoing, stderr); err != nil {
		return err
	}
	if *pixelsPath != "" {
		if pixelItems, err = pipeline.ReadPixels(*pixelsPath); err != nil {
			return err
		}
		for _, it := range pixelItems {
			if (it.Video || it.Grid.T != 1) && *pngDir != "" {
				return usagef("-png draws images only: %s is a video (grid %v)", it.Name, it.Grid)
			}
		}
	}
	start := time.Now()
	ckpt, err := pipeline.Resolve(ctx, spec, pipelineOptions(vision.Options{Threads: *threads, Weights: wmode, Compute: cmode}, ov, stderr))
	if err != nil {
		return err
	}
	p, err := ckpt.Load(ctx)
	if err != nil {
		return err
	}
	loadSecs := time.Since(start).Seconds()

	n := len(inputs) + len(pixelItems)
	skipped := total - len(inputs)
	prog := newProgress(stderr, n, !*quiet && isTerminal(stderr))
	defer prog.done()
	var all pipeline.Features
	var b pipeline.Batch
	var pngs *featurePNGs
	if *pngDir != "" {
		pngs = &featurePNGs{dir: *pngDir, opts: ckpt.Image, maps: picture.MapOptions{PatchSize: p.Config.PatchSize, MergeSize: p.Config.SpatialMergeSize, DeepstackBlocks: p.Config.DeepstackVisualIndexes}}
	}
	var flops int64
	encStart := time.Now()
	// Consecutive inputs are encoded together up to -batch-patches: the rows of one item never
	// mix with another's, so only the speed changes.
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		res, err := p.Encode(vision.WithProgress(ctx, prog.blocks), &b)
		if err != nil {
			return err
		}
		f := res.Items(0, b.Len())
		warnNonFinite(stderr, res, f)
		if pngs != nil {
			if err := pngs.write(&b, res); err != nil {
				return err
			}
		}
		all.Append(f)
		flops += vision.FLOPs(p.Config, b.Grids())
		for range b.Len() {
			prog.step()
		}
		b.Reset()
		return nil
	}
	add := func(it pipeline.Item) error {
		if b.Len() > 0 && b.Patches()+it.Grid.Patches() > *batchPatches {
			if err := flush(); err != nil {
				return err
			}
		}
		b.Add(it)
		return nil
	}
	for _, it := range pixelItems {
		if err := add(it); err != nil {
			return err
		}
	}
	// skip reports an input that cannot be encoded: an error that stops the run, or nil when
	// -keep-going skips it.
	skip := func(err error) error {
		if ctx.Err() != nil || !*keepGoing {
			return err
		}
		prog.clear()
		fmt.Fprintf(stderr, "qwen3vl: skipping %s\n", describe(err))
		skipped++
		prog.total--
		return nil
	}
	for _, in := range inputs {
		it, err := p.Prepare(ctx, in)
		if err != nil {
			if err := skip(err); err != nil {
				return err
			}
			continue
		}
		for _, w := range it.Warnings {
			prog.clear()
			fmt.Fprintf(stderr, "qwen3vl: %s: %s\n", it.Name, w)
		}
		if ec != nil {
			if err := ec.hash(in.Path); err != nil {
				if err := skip(err); err != nil {
					return err
				}
				continue
			}
		}
		if err := add(it); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	prog.done()
	if len(all.Items) == 0 {
		return fmt.Errorf("no input could be encoded (%d skipped)", skipped)
	}
	secs := time.Since(encStart).Seconds()
	if ec != nil {
		if err := ec.write(all, stdout, stderr, *quiet); err != nil {
			return err
		}
	} else if *outPath != "" {
		if err := writeOutput(*format, *outPath, all, p.Metadata(all.Items), *features, stdout); err != nil {
			return err
		}
	}
	if !*quiet && pngs != nil {
		fmt.Fprintf(stderr, "qwen3vl: wrote %d feature pictures into %s\n", pngs.n, *pngDir)
	}
	if !*quiet && *outPath != "" {
		fmt.Fprintf(stderr, "qwen3vl: %d items, %d patches → %d tokens; load %.2fs (%s weights, %s compute), encode %.2fs (%.1f GFLOP/s); wrote %s (%s)\n",
			len(all.Items), all.LastHidden.Rows, all.Pooler.Rows, loadSecs, p.Model.Weights(), p.Model.Compute(), secs, float64(flops)/secs/1e9, *outPath, *format)
	}
	if skipped > 0 {
		return fmt.Errorf("%d of %d inputs skipped (see above)", skipped, max(total, n))
	}
	return nil
}

// warnNonFinite says on stderr how many output values of a batch are NaN or ±Inf (they come
// from extreme inputs or broken weights; the outputs are written all the same).
func warnNonFinite(stderr io.Writer, res *pipeline.Result, f pipeline.Features) {
	if bad := res.Output().NonFinite; bad > 0 {
		names := make([]string, len(f.Items))
		for i, it := range f.Items {
			names[i] = it.Name
		}
		fmt.Fprintf(stderr, "qwen3vl: WARNING: %d output values are NaN or infinite (items %s)\n", bad, strings.Join(names, ", "))
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// checkInputs checks every input before the model is resolved: each exists and, for an image,
// its header is readable and within the limits (see pipeline.Check). With keepGoing a bad
// input is reported by name and dropped; without, the first one is the error.
func checkInputs(ctx context.Context, inputs []pipeline.Input, ov pipeline.Overrides, keepGoing bool, stderr io.Writer) ([]pipeline.Input, error) {
	var ok []pipeline.Input
	for _, in := range inputs {
		err := pipeline.Check(ctx, in, ov)
		switch {
		case err == nil:
			ok = append(ok, in)
		case ctx.Err() != nil || !keepGoing:
			return nil, err
		default:
			fmt.Fprintf(stderr, "qwen3vl: skipping %s\n", describe(err))
		}
	}
	if len(ok) == 0 && len(inputs) > 0 {
		return nil, fmt.Errorf("none of the %d inputs can be encoded", len(inputs))
	}
	return ok, nil
}

// progress prints "items done/total, items/s, ETA" on one terminal line, and while a call runs
// longer than a second, the transformer blocks it has done.
type progress struct {
	statusLine
	total   int
	n       int
	start   time.Time
	call    time.Time // when the running Encode call's first block report came, or zero
	enabled bool
}

func newProgress(w io.Writer, total int, enabled bool) *progress {
	return &progress{statusLine: statusLine{w: w}, total: total, start: time.Now(), enabled: enabled}
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
	elapsed := time.Since(p.start).Seconds()
	rate := float64(p.n) / elapsed
	eta := ""
	if p.n > 0 && p.n < p.total {
		eta = ", ETA " + time.Duration(float64(p.total-p.n)/rate*float64(time.Second)).Round(time.Second).String()
	}
	p.redraw(fmt.Sprintf("[%-30s] %d/%d items, %.2f items/s%s%s", strings.Repeat("#", 30*p.n/max(p.total, 1)), p.n, p.total, rate, eta, extra))
}

// statusLine is one line of a terminal redrawn in place (a progress bar).
type statusLine struct {
	w       io.Writer
	printed bool // something is on the line
}

// redraw replaces the line with line.
func (l *statusLine) redraw(line string) {
	fmt.Fprintf(l.w, "\r%s\x1b[K", line)
	l.printed = true
}

// clear empties the line before another message is written.
func (l *statusLine) clear() {
	if l.printed {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.printed = false
	}
}

// done ends the line, leaving what it shows.
func (l *statusLine) done() {
	if l.printed {
		fmt.Fprintln(l.w)
		l.printed = false
	}
}
