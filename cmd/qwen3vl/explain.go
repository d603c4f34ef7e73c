package main

import (
	"context"
	"fmt"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/textjoin"
	"github.com/qwen3vl/qwen3vl/vision"
)

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", "explain [-model DIR|FILE.gguf|PRESET|random:PRESET] [-size WxH] [IMAGE]", stderr)
	model := fs.String("model", "qwen3-vl-2b", "a checkpoint folder (only config.json and preprocessor_config.json are read), a llama.cpp mmproj .gguf file or ollama:NAME[:TAG] (only its metadata is read), or a preset name ("+strings.Join(vision.PresetNames(), ", ")+")")
	size := fs.String("size", "", "explain an image of this size (WxH) instead of a file")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (fs.NArg() == 1) == (*size != "") || fs.NArg() > 1 {
		return usagef("give one image file or -size WxH")
	}
	ckpt, name, err := explainCheckpoint(ctx, *model, &imf, stderr)
	if err != nil {
		return err
	}
	cfg, opts := ckpt.Config, ckpt.Image
	var w, h int
	source := ""
	if *size != "" {
		if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w < 1 || h < 1 {
			return usagef("-size %q: want WxH, e.g. 400x300", *size)
		}
		source = fmt.Sprintf("an image of %d×%d", w, h)
	} else {
		img, err := imageproc.DecodeFile(ctx, fs.Arg(0), opts)
		if err != nil {
			return err
		}
		w, h = img.Width, img.Height
		source = fmt.Sprintf("%s (%d×%d after EXIF orientation)", fs.Arg(0), w, h)
	}
	return explain(stdout, cfg, name, opts, source, w, h)
}

// explainCheckpoint resolves explain's -model: a preset name (or random:PRESET), a checkpoint
// folder or a hub id, of which only the configuration is read.
func explainCheckpoint(ctx context.Context, model string, imf *imageFlags, stderr io.Writer) (*pipeline.Checkpoint, string, error) {
	ov, err := imf.overrides()
	if err != nil {
		return nil, "", err
	}
	spec, name := model, model
	if preset := strings.TrimPrefix(model, "random:"); slices.Contains(vision.PresetNames(), preset) {
		spec, name = "random:"+preset, "preset "+preset
	}
	s, err := parseSpec(spec)
	if err != nil {
		return nil, "", err
	}
	c, err := pipeline.Resolve(ctx, s, pipelineOptions(vision.Options{}, ov, io.Discard))
	return c, name, err
}

func explain(out io.Writer, cfg vision.Config, name string, opts imageproc.Options, source string, w, h int) error {
	factor := opts.PatchSize * opts.MergeSize
	rh, rw, err := imageproc.SmartResize(h, w, factor, opts.MinPixels, opts.MaxPixels)
	if err != nil {
		return err
	}
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	p("Vision tower (Qwen3-VL design), %s: depth %d, D %d, %d heads × %d, MLP %d, out %d, DeepStack after blocks %v",
		name, cfg.Depth, cfg.HiddenSize, cfg.NumHeads, cfg.HeadDim(), cfg.IntermediateSize, cfg.OutHiddenSize, cfg.DeepstackVisualIndexes)
	p("")
	p("Input: %s", source)
	roundH, roundW := roundHalfEven(float64(h)/float64(factor))*factor, roundHalfEven(float64(w)/float64(factor))*factor
	why := fmt.Sprintf("each side rounded to a multiple of %d (patch %d × merge %d, half to even)", factor, opts.PatchSize, opts.MergeSize)
	switch {
	case roundH*roundW > opts.MaxPixels:
		why = fmt.Sprintf("rounding gives %d×%d = %d pixels > max_pixels %d, so both sides are scaled by √(max/area) and floored to multiples of %d", roundW, roundH, roundW*roundH, opts.MaxPixels, factor)
	case roundH*roundW < opts.MinPixels:
		why = fmt.Sprintf("rounding gives %d×%d = %d pixels < min_pixels %d, so both sides are scaled by √(min/area) and ceiled to multiples of %d", roundW, roundH, roundW*roundH, opts.MinPixels, factor)
	}
	p("Resize: %d×%d → %d×%d (bicubic): %s", w, h, rw, rh, why)
	g := vision.Grid{T: 1, H: rh / opts.PatchSize, W: rw / opts.PatchSize}
	n := g.Patches()
	m2 := cfg.SpatialMergeSize * cfg.SpatialMergeSize
	tokens := n / m2
	p("Grid (t, h, w) = %v: %d patches of %d×%d×%d pixels (%d values each, the frame repeated to the temporal patch %d) → %d tokens",
		g, n, cfg.InChannels, opts.PatchSize, opts.PatchSize, cfg.PatchDim(), cfg.TemporalPatchSize, tokens)
	p("")

	d, o, hd := int64(cfg.HiddenSize), int64(cfg.OutHiddenSize), int64(cfg.HeadDim())
	N, T := int64(n), int64(tokens)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "module\tinput\toutput\tparameters\tGFLOP\tactivations\t")
	row := func(module, in, outShape string, c vision.Cost) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\t\n", module, in, outShape, count(c.Params), float64(c.FLOPs)/1e9, mib(c.Activations*4))
	}
	// One row per module, the blocks summed into one (they share their activations).
	var blocks vision.Cost
	var attention int64
	deepstack := 0
	side := cfg.PositionGridSide()
	for _, c := range vision.Costs(cfg, []vision.Grid{g}) {
		attention += c.Attention
		switch {
		case c.Module == "patch_embed":
			row("patch_embed (Conv3d as matmul)", shape(N, int64(cfg.PatchDim())), shape(N, d), c)
		case c.Module == "pos_embed":
			row(fmt.Sprintf("pos_embed (%d×%d table, bilinear)", side, side), shape(N, d), shape(N, d), c)
		case strings.HasPrefix(c.Module, "blocks."):
			blocks.Params += c.Params
			blocks.FLOPs += c.FLOPs
			blocks.Activations = c.Activations
			if c.Module == fmt.Sprintf("blocks.%d", cfg.Depth-1) {
				row(fmt.Sprintf("blocks × %d (attention, MLP)", cfg.Depth), shape(N, d), shape(N, d), blocks)
			}
		case c.Module == "merger":
			row("merger (LayerNorm D, 2×2 merge, MLP)", shape(N, d), shape(T, o), c)
		default: // deepstack_merger_list.K, in order
			row(fmt.Sprintf("%s (after block %d)", c.Module, cfg.DeepstackVisualIndexes[deepstack]), shape(N, d), shape(T, o), c)
			deepstack++
		}
	}
	tw.Flush()
	total := vision.FLOPs(cfg, []vision.Grid{g})
	p("")
	p("Total: %s parameters (%s as bf16, %s as float32), %.1f GFLOP (attention %.1f, %d×%d scores per head per block; head_dim %d)",
		count(cfg.ParamCount()), mib(cfg.ParamCount()*2), mib(cfg.ParamCount()*4), float64(total)/1e9, float64(attention)/1e9, n, n, hd)
	p("Outputs: pooler_output [%d, %d], %d × deepstack_features [%d, %d], last_hidden_state [%d, %d]",
		tokens, o, len(cfg.DeepstackVisualIndexes), tokens, o, n, d)
	tok := textjoin.DefaultTokens()
	p("Text side: <|vision_start|>%s<|vision_end|> (%d × %s)", abbreviatePads(tok.ImagePad.Text, tokens), tokens, tok.ImagePad.Text)
	return nil
}

func abbreviatePads(pad string, n int) string {
	if n <= 3 {
		return strings.Repeat(pad, n)
	}
	return pad + pad + "…" + pad
}

func roundHalfEven(x float64) int { return int(math.RoundToEven(x)) }

func shape(r, c int64) string { return fmt.Sprintf("[%d, %d]", r, c) }

func count(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }
