package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/qwen3vl/qwen3vl/textjoin"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringList)(nil)

func runPrompt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("prompt", "prompt [-model DIR] [-image F]... [-video V]... [-json] \"text with <image> and <video> marks\"", stderr)
	model := fs.String("model", "", "checkpoint folder whose config.json / tokenizer_config.json give the special tokens and merge size (default: Qwen3-VL's)")
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
	tok := textjoin.DefaultTokens()
	if *model != "" && !strings.HasPrefix(*model, "random:") {
		t, err := textjoin.LoadTokens(*model)
		if err != nil {
			return err
		}
		tok = t
	}
	opts, err := imf.options(*model)
	if err != nil {
		return err
	}
	_, grids, _, err := preprocessFiles(ctx, images, opts)
	if err != nil {
		return err
	}
	tg := make([]textjoin.Grid, len(grids))
	for i, g := range grids {
		tg[i] = textjoin.Grid{T: g.T, H: g.H, W: g.W}
	}
	vopts, err := imf.videoOptions(*model)
	if err != nil {
		return err
	}
	var videos []textjoin.Video
	for _, v := range imf.videos {
		_, g, ts, err := preprocessItem(ctx, input{v, true}, opts, vopts, stderr)
		if err != nil {
			return err
		}
		videos = append(videos, textjoin.Video{Grid: textjoin.Grid{T: g.T, H: g.H, W: g.W}, Timestamps: ts})
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
