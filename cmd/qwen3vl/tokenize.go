package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/textjoin"
	"github.com/qwen3vl/qwen3vl/vision"
)

// maxTokenizeInput bounds the text, conversation or id list tokenize reads.
const maxTokenizeInput = 64 << 20

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", "tokenize [-model M] [-json] \"text\" | -chat FILE.json [-image F]... | -decode \"ID ID ...\"", stderr)
	model := fs.String("model", "", "checkpoint folder, folder holding tokenizer.json and tokenizer_config.json, or hub id (default: "+pipeline.DefaultSpec().Text+")")
	chatFile := fs.String("chat", "", "a conversation (JSON: a list of messages, or {\"messages\": [...], \"tools\": [...]}) to render with the checkpoint's chat template and tokenize; - reads stdin")
	genPrompt := fs.Bool("add-generation-prompt", true, "with -chat: end with the assistant turn's opening, as apply_chat_template(add_generation_prompt=True)")
	var vars stringList
	fs.Var(&vars, "var", "with -chat: a template variable NAME=VALUE, VALUE as JSON when it parses (true, 3, \"x\"), else as a string; e.g. -var enable_thinking=false, -var add_vision_id=true (repeatable)")
	var images stringList
	fs.Var(&images, "image", "an image for the next image part or <image> mark, in order: its pads are expanded to the image's token count (repeatable)")
	decode := fs.Bool("decode", false, "the argument is token ids (separated by spaces or commas): print their text")
	skipSpecial := fs.Bool("skip-special", false, "with -decode: leave out special tokens, as decode(skip_special_tokens=True)")
	asJSON := fs.Bool("json", false, "print one JSON object {\"ids\": [...], \"pieces\": [...]} (and \"text\" with -chat or -decode)")
	var imf imageFlags
	imf.register(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *chatFile != "" && len(positional) != 0:
		return usagef("-chat takes the conversation from its file; give no text argument (got %d)", len(positional))
	case *chatFile == "" && len(positional) != 1:
		return usagef("want exactly one text argument (quote it; - reads stdin), got %d", len(positional))
	case *decode && *chatFile != "":
		return usagef("-decode and -chat do not go together")
	case *decode && (len(images) > 0 || len(imf.videos) > 0):
		return usagef("-decode takes no -image or -video")
	case *chatFile == "" && (flagGiven(fs, "var") || flagGiven(fs, "add-generation-prompt")):
		return usagef("-var and -add-generation-prompt need -chat")
	}
	tvars, err := parseVars(vars)
	if err != nil {
		return err
	}
	var input []byte
	switch {
	case *chatFile != "":
		input, err = readInput(*chatFile, os.Stdin)
	case positional[0] == "-":
		input, err = readInput("-", os.Stdin)
	default:
		input = []byte(positional[0])
	}
	if err != nil {
		return err
	}
	var ids []int32
	if *decode {
		if ids, err = parseIDs(string(input)); err != nil {
			return usageError{err.Error()}
		}
	}
	var conv *chat.Conversation
	if *chatFile != "" {
		if conv, err = chat.ParseConversation(input); err != nil {
			return fmt.Errorf("%s: %w", *chatFile, err)
		}
	}
	ov, err := imf.overrides()
	if err != nil {
		return err
	}

	spec := pipeline.DefaultSpec()
	if *model != "" {
		if spec, err = parseTextSpec(*model); err != nil {
			return err
		}
	}
	text, err := pipeline.ResolveText(ctx, spec, pipelineOptions(vision.Options{}, ov, stderr))
	if err != nil {
		return err
	}
	tk := text.Tokenizer

	out := tokenizeOutput{}
	if *decode {
		s, err := tk.Decode(ids, *skipSpecial)
		if err != nil {
			return err
		}
		out.IDs, out.Text = ids, &s
	} else {
		prompt := string(input)
		if conv != nil {
			rendered, err := text.Render(conv, chat.Options{AddGenerationPrompt: *genPrompt, Vars: tvars})
			if err != nil {
				return err
			}
			prompt = rendered
			out.Text = &rendered
		}
		if len(images) == 0 && len(imf.videos) == 0 {
			if out.IDs, err = tk.Encode(prompt); err != nil {
				return err
			}
			if conv != nil {
				if ni, nv := conv.Counts(); ni+nv > 0 {
					fmt.Fprintf(stderr, "qwen3vl: %d image and %d video parts keep one pad each; give -image/-video files to expand them to their token counts\n", ni, nv)
				}
			}
		} else {
			// The preprocessing options: the folder's checkpoint's, or the Qwen3-VL defaults
			// for a bare tokenizer folder.
			ckpt, err := checkpointOrDefaults(ctx, checkpointFolder(text.Dir), ov, stderr)
			if err != nil {
				return err
			}
			tg, videos, err := prepareItems(ctx, ckpt, images, imf.videos, ov, stderr)
			if err != nil {
				return err
			}
			if conv == nil { // plain text: its <image> and <video> marks place the items
				prompt = textjoin.ReplaceMarks(prompt, text.Tokens)
			}
			d, err := text.Describe(prompt, tg, videos)
			if err != nil {
				return err
			}
			out.IDs = d.IDs
		}
	}
	out.Pieces = make([]string, len(out.IDs))
	for i, id := range out.IDs {
		p, ok := tk.Piece(id)
		if !ok {
			return fmt.Errorf("token id %d is not in the vocabulary of %s (%d ids)", id, text.Dir, tk.Len())
		}
		out.Pieces[i] = p
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	return out.print(stdout, tk.Decode)
}

// parseInterspersed parses flags that may come before or after the positional arguments
// ("tokenize -decode IDS -skip-special"); "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// tokenizeOutput is what tokenize prints; its JSON form is a contract relied on from outside:
// {"ids": [...], "pieces": [...]}, plus "text" (the rendered conversation, or the decoded ids).
type tokenizeOutput struct {
	IDs    []int32  `json:"ids"`
	Pieces []string `json:"pieces"`
	Text   *string  `json:"text,omitempty"`
}

// print writes one token per line (index, id, piece as the vocabulary spells it, and the text
// it stands for), then the text when there is one.
func (o tokenizeOutput) print(w io.Writer, decode func([]int32, bool) (string, error)) error {
	bw := bufio.NewWriter(w)
	if o.Text != nil {
		fmt.Fprintf(bw, "%s\n\n", *o.Text)
	}
	fmt.Fprintf(bw, "%6s %8s  %-24s %s\n", "index", "id", "piece", "text")
	for i, id := range o.IDs {
		s, err := decode([]int32{id}, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "%6d %8d  %-24s %q\n", i, id, o.Pieces[i], s)
	}
	fmt.Fprintf(bw, "%d tokens\n", len(o.IDs))
	return bw.Flush()
}

// parseIDs reads token ids separated by spaces, commas or newlines, with optional brackets
// (so the "ids" array of -json output can be pasted back).
func parseIDs(s string) ([]int32, error) {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '[' || r == ']' || r == ' ' || r == '\n' || r == '\t' || r == '\r'
	})
	if len(f) == 0 {
		return nil, fmt.Errorf("no token ids given")
	}
	ids := make([]int32, len(f))
	for i, x := range f {
		v, err := strconv.ParseInt(x, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("token id %q (number %d): want a non-negative integer", x, i+1)
		}
		ids[i] = int32(v)
	}
	return ids, nil
}

// parseVars turns -var NAME=VALUE flags into template variables.
func parseVars(vars []string) (map[string]any, error) {
	m := map[string]any{}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, usagef("-var %q: want NAME=VALUE", v)
		}
		var x any
		if err := json.Unmarshal([]byte(value), &x); err != nil {
			x = value
		}
		m[name] = x
	}
	return m, nil
}

// readInput returns a file's bytes, or stdin's when path is "-", bounded by
// maxTokenizeInput.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path != "-" {
		b, err := fsutil.ReadFile(path, maxTokenizeInput)
		if err != nil {
			return nil, inputError(path, err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxTokenizeInput+1))
	if err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	if len(b) > maxTokenizeInput {
		return nil, fmt.Errorf("stdin: more than %d MiB", maxTokenizeInput>>20)
	}
	return b, nil
}

// prepareItems preprocesses the -image and -video files with the checkpoint's preprocessing
// options and returns their grids as textjoin takes them.
func prepareItems(ctx context.Context, ckpt *pipeline.Checkpoint, images, videoFiles []string, ov pipeline.Overrides, stderr io.Writer) ([]textjoin.Grid, []textjoin.Video, error) {
	var inputs []pipeline.Input
	for _, f := range images {
		inputs = append(inputs, pipeline.Input{Path: f})
	}
	for _, v := range videoFiles {
		inputs = append(inputs, pipeline.Input{Path: v, Video: true})
	}
	if _, err := checkInputs(ctx, inputs, ov, false, stderr); err != nil {
		return nil, nil, err
	}
	var tg []textjoin.Grid
	var videos []textjoin.Video
	for _, in := range inputs {
		it, err := ckpt.Prepare(ctx, in)
		if err != nil {
			return nil, nil, err
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
	return tg, videos, nil
}

// checkpointFolder is dir when it holds a checkpoint's config.json, else "" (the defaults).
func checkpointFolder(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return dir
	}
	return ""
}
