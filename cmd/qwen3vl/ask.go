package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// repoTokenizer is the tokenizer folder committed in this repository, used for random specs
// (which have none) when the command runs from the repository's root.
const repoTokenizer = "testdata/tokenizer/qwen3vl"

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ask", "ask -model M [-image F]... [-video V]... [-system S] [-max-tokens N] [-temperature T] [-top-p P] [-top-k K] [-seed N] [-json] [-attn-png OUT.png [-attn-per-token]] \"question\"", stderr)
	var af assistantFlags
	af.register(fs)
	var images stringList
	fs.Var(&images, "image", "an image, placed at the question's k-th <image> mark, or before the question when it has no marks (repeatable)")
	asJSON := fs.Bool("json", false, "print, instead of the streamed answer, one JSON line {\"prompt_ids\", \"ids\", \"text\"} at the end")
	attnPNG := fs.String("attn-png", "", "also draw, into this PNG file, how much attention the last decoder layer paid to each image token while answering (averaged over its heads and the answer's tokens), over each image as resized; needs -image, refuses -video")
	perToken := fs.Bool("attn-per-token", false, "with -attn-png, also draw one picture per answer token, OUT-000.png, OUT-001.png, … beside OUT.png")
	var imf imageFlags
	imf.register(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("want exactly one question (quote it), got %d", len(positional))
	}
	if err := checkAttnFlags(*attnPNG, *perToken, images, imf.videos); err != nil {
		return err
	}
	ov, err := imf.overrides()
	if err != nil {
		return err
	}
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
	conv, err := askConversation(af.system, len(images), len(imf.videos), positional[0])
	if err != nil {
		return err
	}
	a, gen, err := af.open(ctx, fs, ov, stderr)
	if err != nil {
		return err
	}
	var items []pipeline.Item
	for _, in := range inputs {
		it, err := a.Prepare(ctx, in)
		if err != nil {
			return err
		}
		for _, w := range it.Warnings {
			fmt.Fprintf(stderr, "qwen3vl: %s: %s\n", it.Name, w)
		}
		items = append(items, it)
	}

	out := bufio.NewWriter(stdout)
	emit := func(s string) error {
		if *asJSON {
			return nil
		}
		if _, err := out.WriteString(s); err != nil {
			return err
		}
		return out.Flush()
	}
	var rec *pipeline.AttentionRecord
	actx := ctx
	if *attnPNG != "" {
		rec = new(pipeline.AttentionRecord)
		actx = pipeline.WithAttention(ctx, rec)
	}
	ans, err := a.Ask(actx, conv, items, gen, emit)
	if err != nil {
		return err
	}
	if rec != nil {
		if err := writeAttention(*attnPNG, *perToken, af.model, a, rec, items, ans); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(askJSON{PromptIDs: ans.PromptIDs, IDs: ans.IDs, Text: ans.Text}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(out)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "qwen3vl: %s\n", summary(ans))
	return nil
}

// askJSON is ask -json's line; it is relied on from outside: keep its fields.
type askJSON struct {
	PromptIDs []int32 `json:"prompt_ids"`
	IDs       []int32 `json:"ids"`
	Text      string  `json:"text"`
}

// askConversation is the one-turn conversation of ask: an optional system message, then the
// user's images, videos and question (placed by the question's marks, see userContent).
func askConversation(system string, images, videos int, question string) (*chat.Conversation, error) {
	var msgs []map[string]any
	if system != "" {
		msgs = append(msgs, map[string]any{"role": "system", "content": system})
	}
	kinds := make([]bool, images+videos)
	for i := images; i < len(kinds); i++ {
		kinds[i] = true
	}
	parts, err := userContent(kinds, question)
	if err != nil {
		return nil, fmt.Errorf("the question: %w (-image / -video)", err)
	}
	msgs = append(msgs, map[string]any{"role": "user", "content": parts})
	b, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	return chat.ParseConversation(b)
}

// assistantFlags are the model and generation flags of ask and chat.
type assistantFlags struct {
	model, tokenizer, system, weights string
	compute                           string
	maxTokens, topK, threads          int
	temperature, topP                 float64
	seed                              uint64
	fs                                *flag.FlagSet
}

func (f *assistantFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.model, "model", "", "checkpoint folder with the language weights, hub id Org/Name[@revision] (downloads the vision tower and the language model), or random:PRESET[@SEED] for a dry run of the real shapes (gibberish answers)")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "folder holding tokenizer.json, tokenizer_config.json and a chat template, instead of the checkpoint's (default for random:PRESET: "+repoTokenizer+" when it exists)")
	fs.StringVar(&f.system, "system", "", "a system message")
	fs.IntVar(&f.maxTokens, "max-tokens", 256, "most new tokens of an answer")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature; 0 is greedy (default: the checkpoint's generation_config.json, else greedy)")
	fs.Float64Var(&f.topP, "top-p", 0, "nucleus sampling mass in (0, 1] (default: generation_config.json's)")
	fs.IntVar(&f.topK, "top-k", 0, "keep the K most likely tokens (default: generation_config.json's)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the sampler")
	fs.IntVar(&f.threads, "threads", runtime.GOMAXPROCS(0), "goroutines for the kernels")
	fs.StringVar(&f.weights, "weights", "auto", weightsUsage)
	fs.StringVar(&f.compute, "compute", "f32", computeUsage+"; the text decoder's Linears too (its attention stays float32)")
}

// open checks the flags, opens the model and returns it with the generation settings: the
// checkpoint's, with the flags given on the command line in place.
func (f *assistantFlags) open(ctx context.Context, fs *flag.FlagSet, ov pipeline.Overrides, stderr io.Writer) (*pipeline.Assistant, generate.Config, error) {
	var gen generate.Config
	if f.model == "" {
		return nil, gen, usagef("-model is required: a checkpoint folder, a hub id, or random:PRESET for a dry run")
	}
	if f.maxTokens < 1 {
		return nil, gen, usagef("-max-tokens %d: must be at least 1", f.maxTokens)
	}
	wmode, err := parseWeights(f.weights)
	if err != nil {
		return nil, gen, err
	}
	cmode, err := parseCompute(f.compute)
	if err != nil {
		return nil, gen, err
	}
	if err := checkCompute(cmode, wmode); err != nil {
		return nil, gen, err
	}
	spec, err := parseTextSpec(f.model)
	if err != nil {
		return nil, gen, err
	}
	opts := pipeline.AssistantOptions{
		Options:   pipelineOptions(vision.Options{Threads: f.threads, Weights: wmode, Compute: cmode}, ov, stderr),
		Decoder:   text.Options{Threads: f.threads, Weights: wmode, Compute: cmode},
		Tokenizer: f.tokenizer,
	}
	if opts.Tokenizer == "" && spec.Kind == pipeline.Random {
		if _, err := os.Stat(repoTokenizer); err != nil {
			return nil, gen, usagef("model %s has no tokenizer: give -tokenizer DIR (a folder holding tokenizer.json), or run from the repository's root, where %s is", spec.Text, repoTokenizer)
		}
		opts.Tokenizer = repoTokenizer
		fmt.Fprintf(stderr, "qwen3vl: %s has synthetic weights: its answers are gibberish; tokenizer from %s\n", spec.Text, repoTokenizer)
	}
	// The generation flags are checked before the (slow) loading.
	check := generate.DefaultConfig()
	f.apply(fs, &check)
	if err := check.Validate(); err != nil {
		return nil, gen, usageError{describe(err)}
	}
	a, err := pipeline.OpenAssistant(ctx, spec, opts)
	if err != nil {
		return nil, gen, err
	}
	gen = a.Generation
	f.apply(fs, &gen)
	if err := gen.Validate(); err != nil {
		return nil, gen, usageError{describe(err)}
	}
	return a, gen, nil
}

// apply puts the generation flags given on the command line into gen.
func (f *assistantFlags) apply(fs *flag.FlagSet, gen *generate.Config) {
	gen.MaxNewTokens, gen.Seed = f.maxTokens, f.seed
	if flagGiven(fs, "temperature") {
		gen.Temperature = f.temperature
		gen.DoSample = f.temperature > 0
	}
	if flagGiven(fs, "top-p") {
		gen.TopP = f.topP
	}
	if flagGiven(fs, "top-k") {
		gen.TopK = f.topK
	}
}

// summary is the one line ask and chat print on stderr after an answer.
func summary(ans *pipeline.Answer) string {
	rate := 0.0
	if s := ans.Decode.Seconds(); s > 0 {
		rate = float64(len(ans.IDs)) / s
	}
	return fmt.Sprintf("%d prompt tokens (%d image, %d video), %d generated (%s); encode %.2fs, prefill %.2fs, first token after %.2fs, %.1f tokens/s",
		len(ans.PromptIDs), ans.ImageTokens, ans.VideoTokens, len(ans.IDs), ans.Reason, ans.Encode.Seconds(), ans.Prefill.Seconds(), ans.TimeToFirst.Seconds(), rate)
}
