package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/textjoin"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringList)(nil)

// known prints an index, or "-" when it is unknown (-1).
func known(i int) string {
	if i < 0 {
		return "-"
	}
	return strconv.Itoa(i)
}

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
	tg, videos, err := prepareItems(ctx, ckpt, images, imf.videos, ov, stderr)
	if err != nil {
		return err
	}
	// With the checkpoint's tokenizer, the prompt is tokenized too: token indices and MRoPE
	// positions of every span.
	var enc textjoin.Encoder
	if ckpt.Dir != "" {
		if _, err := os.Stat(filepath.Join(ckpt.Dir, "tokenizer.json")); err == nil {
			text, err := ckpt.Text()
			if err != nil {
				return err
			}
			enc = text.Tokenizer.Encode
		}
	}
	d, err := textjoin.Describe(fs.Arg(0), tg, videos, tok, enc)
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
	fmt.Fprintf(stderr, "%-6s %-5s %-6s %-14s %-12s %6s %8s %10s %8s %8s %s\n", "kind", "item", "group", "grid", "merged", "pads", "feature", "byte", "token", "position", "time")
	for _, s := range d.Spans {
		fmt.Fprintf(stderr, "%-6s %-5d %-6d %-14v %-12v %6d %8d %10d %8s %8s %s\n", s.Kind, s.Item, s.Group, s.Grid, s.Merged, s.Pads, s.Feature, s.Byte, known(s.Token), known(s.Position), s.TimestampText)
	}
	if enc == nil {
		fmt.Fprintf(stderr, "%d image tokens, %d video tokens; token indices and MRoPE positions need the model's tokenizer (a -model folder with tokenizer.json)\n", d.ImageTokens, d.VideoTokens)
	} else {
		fmt.Fprintf(stderr, "%d tokens: %d image, %d video; rope delta %d\n", len(d.IDs), d.ImageTokens, d.VideoTokens, d.RopeDelta)
	}
	return nil
}
