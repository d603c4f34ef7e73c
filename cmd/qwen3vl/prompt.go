package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringList)(nil)

func runPrompt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("prompt", "prompt [-model DIR] [-image F]... [-video V]... [-json] \"text with <image> and <video> marks\"", stderr)
	model := fs.String("model", "", "checkpoint folder or hub id whose tokenizer_config.json and preprocessor configs give the special tokens and the resize budget (default: Qwen3-VL's); no weights are read")
	var images stringList
	fs.Var(&images, "image", "an image file, one per <image> mark, in order (repeatable)")
	asJSON := fs.Bool("json", false, "print the expansion and every span as JSON")
	var imf imageFlags
	imf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one prompt argument (quote it), got %d", fs.NArg())
	}
	ov, err := imf.overrides()
	if err != nil {
		return err
	}
	ckpt, err := checkpointOrDefaults(ctx, *model, ov, stderr)
	if err != nil {
		return err
	}
	tok := textjoin.DefaultTokens()
	if ckpt.Dir != "" {
		if tok, err = textjoin.LoadTokens(ckpt.Dir); err != nil {
			return err
		}
	}
	var tg []textjoin.Grid
	var videos []textjoin.Video
	var inputs []pipeline.Input
	for _, f := range images {
		inputs = append(inputs, pipeline.Input{Path: f})
	}
	for _, v := range imf.videos {
		inputs = append(inputs, pipeline.Input{Path: v, Video: true})
	}
	if _, err := checkInputs(ctx, inputs, ov, false, stderr); err != nil {
		return err
	}
	for _, in := range inputs {
		it, err := ckpt.Prepare(ctx, in)
		if err != nil {
			return err
		}
		for _, w := range it.Warnings {
			fmt.Fprintf(stderr, "qwen3vl: %s: %s\n", it.Name, w)
		}
		g := textjoin.Grid(it.Grid)
		if in.Video {
			videos = append(videos, textjoin.Video{Grid: g, Timestamps: it.Timestamps})
		} else {
			tg = append(tg, g)
		}
	}
	d, err := textjoin.Describe(fs.Arg(0), tg, videos, tok, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	fmt.Fprintln(stdout, d.Text)
	fmt.Fprintf(stderr, "%-6s %-5s %-6s %-14s %-12s %6s %8s %10s %s\n", "kind", "item", "group", "grid", "merged", "pads", "feature", "byte", "time")
	for _, s := range d.Spans {
		fmt.Fprintf(stderr, "%-6s %-5d %-6d %-14v %-12v %6d %8d %10d %s\n", s.Kind, s.Item, s.Group, s.Grid, s.Merged, s.Pads, s.Feature, s.Byte, s.TimestampText)
	}
	fmt.Fprintf(stderr, "%d image tokens, %d video tokens; token indices and MRoPE positions need the model's tokenizer (see textjoin.Describe with an Encoder)\n", d.ImageTokens, d.VideoTokens)
	return nil
}
