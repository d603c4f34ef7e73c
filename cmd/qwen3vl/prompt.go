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
	fs := newFlagSet("prompt", "prompt [-model DIR] [-image F]... [-json] \"text with <image> marks\"", stderr)
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
	_, grids, _, err := preprocessFiles(images, opts)
	if err != nil {
		return err
	}
	tg := make([]textjoin.Grid, len(grids))
	for i, g := range grids {
		tg[i] = textjoin.Grid{T: g.T, H: g.H, W: g.W}
	}
	d, err := textjoin.Describe(fs.Arg(0), tg, nil, tok, nil)
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
	fmt.Fprintf(stderr, "%-6s %-5s %-14s %-12s %6s %8s %10s\n", "kind", "item", "grid", "merged", "pads", "feature", "byte")
	for _, s := range d.Spans {
		fmt.Fprintf(stderr, "%-6s %-5d %-14v %-12v %6d %8d %10d\n", s.Kind, s.Item, s.Grid, s.Merged, s.Pads, s.Feature, s.Byte)
	}
	fmt.Fprintf(stderr, "%d image tokens; token indices and MRoPE positions need the model's tokenizer (see textjoin.Describe with an Encoder)\n", d.ImageTokens)
	return nil
}
