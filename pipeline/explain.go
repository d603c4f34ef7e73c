package pipeline

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/textjoin"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Explanation is the dataflow of one image through one tower, worked out from the image's size
// and the configuration alone (no weights, no pixels): the resize and why, the patch grid, one
// row per module with its shapes, parameters, work and activations, and the outputs. It is what
// `qwen3vl explain` prints (WriteText) and what picture.Explain draws beside the image.
type Explanation struct {
	// Model names the tower in the title ("preset qwen3-vl-4b", a folder).
	Model  string
	Config vision.Config
	Image  imageproc.Options
	// Source describes the input ("an image of 400×300", "x.png (400×300 after EXIF orientation)").
	Source string
	// Width and Height are the input's size, ResizedWidth and ResizedHeight what SmartResize makes
	// of it (Grid.W·PatchSize, Grid.H·PatchSize).
	Width, Height, ResizedWidth, ResizedHeight int
	// Why says why the resize picked that size.
	Why string
	// Grid is the patch grid (T = 1); Patches = Grid.Patches(), Tokens = Patches/merge².
	Grid            vision.Grid
	Patches, Tokens int
	// Modules is one row per module in the tower's order, the blocks summed into one row.
	Modules []ModuleRow
	// FLOPs is the work of one Encode of the image, Attention the part in the attention products.
	FLOPs, Attention int64
}

// ModuleRow is one module of the tower in an Explanation: its name as explain prints it, its
// input and output shapes ("[432, 1024]") and its cost for the image.
type ModuleRow struct {
	Module, Input, Output string
	Cost                  vision.Cost
}

// Explain works out the Explanation of a width×height image through the tower cfg with the
// preprocessing opts. name and source are only words for the text. An image SmartResize
// refuses (empty, aspect ratio over 200) is an error.
func Explain(cfg vision.Config, name string, opts imageproc.Options, source string, width, height int) (*Explanation, error) {
	factor := opts.PatchSize * opts.MergeSize
	rh, rw, err := imageproc.SmartResize(height, width, factor, opts.MinPixels, opts.MaxPixels)
	if err != nil {
		return nil, reword(err, "pipeline: ", "imageproc: ")
	}
	e := &Explanation{Model: name, Config: cfg, Image: opts, Source: source, Width: width, Height: height, ResizedWidth: rw, ResizedHeight: rh}
	roundH, roundW := roundHalfEven(float64(height)/float64(factor))*factor, roundHalfEven(float64(width)/float64(factor))*factor
	e.Why = fmt.Sprintf("each side rounded to a multiple of %d (patch %d × merge %d, half to even)", factor, opts.PatchSize, opts.MergeSize)
	switch {
	case roundH*roundW > opts.MaxPixels:
		e.Why = fmt.Sprintf("rounding gives %d×%d = %d pixels > max_pixels %d, so both sides are scaled by √(max/area) and floored to multiples of %d", roundW, roundH, roundW*roundH, opts.MaxPixels, factor)
	case roundH*roundW < opts.MinPixels:
		e.Why = fmt.Sprintf("rounding gives %d×%d = %d pixels < min_pixels %d, so both sides are scaled by √(min/area) and ceiled to multiples of %d", roundW, roundH, roundW*roundH, opts.MinPixels, factor)
	}
	e.Grid = vision.Grid{T: 1, H: rh / opts.PatchSize, W: rw / opts.PatchSize}
	e.Patches = e.Grid.Patches()
	e.Tokens = e.Patches / (cfg.SpatialMergeSize * cfg.SpatialMergeSize)

	d, o := int64(cfg.HiddenSize), int64(cfg.OutHiddenSize)
	n, t := int64(e.Patches), int64(e.Tokens)
	var blocks vision.Cost
	deepstack := 0
	side := cfg.PositionGridSide()
	row := func(module, in, out string, c vision.Cost) {
		e.Modules = append(e.Modules, ModuleRow{Module: module, Input: in, Output: out, Cost: c})
	}
	for _, c := range vision.Costs(cfg, []vision.Grid{e.Grid}) {
		e.Attention += c.Attention
		e.FLOPs += c.FLOPs
		switch {
		case c.Module == "patch_embed":
			row("patch_embed (Conv3d as matmul)", shape(n, int64(cfg.PatchDim())), shape(n, d), c)
		case c.Module == "pos_embed":
			row(fmt.Sprintf("pos_embed (%d×%d table, bilinear)", side, side), shape(n, d), shape(n, d), c)
		case strings.HasPrefix(c.Module, "blocks."):
			blocks.Params += c.Params
			blocks.FLOPs += c.FLOPs
			blocks.Attention += c.Attention
			blocks.Activations = c.Activations
			if c.Module == fmt.Sprintf("blocks.%d", cfg.Depth-1) {
				blocks.Module = "blocks"
				row(fmt.Sprintf("blocks × %d (attention, MLP)", cfg.Depth), shape(n, d), shape(n, d), blocks)
			}
		case c.Module == "merger":
			row("merger (LayerNorm D, 2×2 merge, MLP)", shape(n, d), shape(t, o), c)
		default: // deepstack_merger_list.K, in order
			row(fmt.Sprintf("%s (after block %d)", c.Module, cfg.DeepstackVisualIndexes[deepstack]), shape(n, d), shape(t, o), c)
			deepstack++
		}
	}
	return e, nil
}

// Intro is the text before the module table: the tower, the input, the resize and the grid,
// one line each.
func (e *Explanation) Intro() []string {
	cfg, opts := e.Config, e.Image
	return []string{
		fmt.Sprintf("Vision tower (Qwen3-VL design), %s: depth %d, D %d, %d heads × %d, MLP %d, out %d, DeepStack after blocks %v",
			e.Model, cfg.Depth, cfg.HiddenSize, cfg.NumHeads, cfg.HeadDim(), cfg.IntermediateSize, cfg.OutHiddenSize, cfg.DeepstackVisualIndexes),
		"",
		fmt.Sprintf("Input: %s", e.Source),
		fmt.Sprintf("Resize: %d×%d → %d×%d (bicubic): %s", e.Width, e.Height, e.ResizedWidth, e.ResizedHeight, e.Why),
		fmt.Sprintf("Grid (t, h, w) = %v: %d patches of %d×%d×%d pixels (%d values each, the frame repeated to the temporal patch %d) → %d tokens",
			e.Grid, e.Patches, cfg.InChannels, opts.PatchSize, opts.PatchSize, cfg.PatchDim(), cfg.TemporalPatchSize, e.Tokens),
	}
}

// Table is the module table, its first row the column names: module, input, output,
// parameters, GFLOP, activations (float32 MiB).
func (e *Explanation) Table() [][]string {
	t := [][]string{{"module", "input", "output", "parameters", "GFLOP", "activations"}}
	for _, m := range e.Modules {
		c := m.Cost
		t = append(t, []string{m.Module, m.Input, m.Output, count(c.Params), fmt.Sprintf("%.2f", float64(c.FLOPs)/1e9), mib(c.Activations * 4)})
	}
	return t
}

// Outro is the text after the module table: the totals, the outputs' shapes and the text side's
// placeholder, one line each.
func (e *Explanation) Outro() []string {
	cfg := e.Config
	params := cfg.ParamCount()
	o, d := cfg.OutHiddenSize, cfg.HiddenSize
	tok := textjoin.DefaultTokens()
	return []string{
		fmt.Sprintf("Total: %s parameters (%s as bf16, %s as float32), %.1f GFLOP (attention %.1f, %d×%d scores per head per block; head_dim %d)",
			count(params), mib(params*2), mib(params*4), float64(e.FLOPs)/1e9, float64(e.Attention)/1e9, e.Patches, e.Patches, cfg.HeadDim()),
		fmt.Sprintf("Outputs: pooler_output [%d, %d], %d × deepstack_features [%d, %d], last_hidden_state [%d, %d]",
			e.Tokens, o, len(cfg.DeepstackVisualIndexes), e.Tokens, o, e.Patches, d),
		fmt.Sprintf("Text side: <|vision_start|>%s<|vision_end|> (%d × %s)", abbreviatePads(tok.ImagePad.Text, e.Tokens), e.Tokens, tok.ImagePad.Text),
	}
}

// WriteText writes the explanation as `qwen3vl explain` prints it: Intro, a blank line, the
// table right-aligned in columns, a blank line, Outro.
func (e *Explanation) WriteText(out io.Writer) error {
	var b strings.Builder
	for _, l := range e.Intro() {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', tabwriter.AlignRight)
	for _, r := range e.Table() {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	b.WriteString("\n")
	for _, l := range e.Outro() {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
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
