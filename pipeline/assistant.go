package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/text"
)

// Assistant is a whole Qwen3-VL: the vision tower with its preprocessing, the text decoder,
// and the text side (tokenizer and chat template). [Assistant.Ask] answers a conversation.
// It is read-only after opening; each Ask has its own KV cache.
type Assistant struct {
	*Pipeline
	Decoder *text.Model
	Text    *Text
	// Generation is the checkpoint's generation_config.json (HF's defaults where it is
	// absent or lacks a key), with the tokenizer's eos ids when it names none.
	Generation generate.Config
}

// AssistantOptions configure [OpenAssistant].
type AssistantOptions struct {
	// Options are the vision side's (as for [Open]).
	Options
	// Decoder configures the text decoder (threads, how weights are held).
	Decoder text.Options
	// Tokenizer is a folder holding tokenizer.json and tokenizer_config.json (and a chat
	// template) to use instead of the checkpoint's; a random spec needs one, having none
	// (testdata/tokenizer/qwen3vl in this repository).
	Tokenizer string
}

// tinyModels are the presets of the tiny full models of testdata/text, whose tower
// OpenAssistant narrows to the decoder.
var tinyModels = []string{"tiny", "tiny-untied", "tiny-moe"}

// OpenAssistant opens every part of a model spec: the text side first (cheap, and the most
// likely to be missing), then the decoder and the vision tower. A random spec makes both
// from their presets (the same name: qwen3-vl-2b, qwen3-vl-4b, tiny) and the seed. A GGUF
// spec, a vision tower alone, is refused (ErrVisionOnly).
func OpenAssistant(ctx context.Context, spec Spec, opts AssistantOptions) (*Assistant, error) {
	if err := spec.CheckText(); err != nil {
		return nil, err
	}
	ro := opts.Options
	ro.Hub.Text = true // the decoder needs the language tensors too: no vision-only download
	c, err := Resolve(ctx, spec, ro)
	if err != nil {
		return nil, err
	}
	tdir := opts.Tokenizer
	if tdir == "" {
		if c.Dir == "" {
			return nil, fmt.Errorf("pipeline: model %s has synthetic weights and no tokenizer; give a tokenizer folder (such as testdata/tokenizer/qwen3vl)", spec.Text)
		}
		tdir = c.Dir
	}
	txt, err := OpenText(tdir)
	if err != nil {
		return nil, err
	}
	if txt.Template == nil {
		return nil, fmt.Errorf("pipeline: %s has no chat template, which a conversation needs", tdir)
	}
	gen, err := generationConfig(tdir)
	if err != nil {
		return nil, err
	}
	if len(gen.EOS) == 0 {
		gen.EOS = txt.Tokenizer.Specials().EOS
	}
	var dec *text.Model
	if spec.Kind == Random {
		tcfg, err := text.Preset(spec.Preset)
		if err != nil {
			return nil, fmt.Errorf("pipeline: model %s: no text decoder preset of that name: %w", spec.Text, err)
		}
		if slices.Contains(tinyModels, spec.Preset) {
			// random:tiny (-untied, …) is the tiny full model of testdata/text/tiny (…): the
			// tiny tower narrowed to the decoder's width, with three DeepStack sets.
			c.Config.OutHiddenSize = tcfg.HiddenSize
			c.Config.DeepstackVisualIndexes = []int{1, 2, 3}
		}
		dec, err = text.Random(tcfg, spec.Seed, opts.Decoder)
		if err != nil {
			return nil, err
		}
	} else if dec, err = text.Load(ctx, c.Dir, opts.Decoder); err != nil {
		return nil, err
	}
	if out, d := c.Config.OutHiddenSize, dec.Config().HiddenSize; out != d {
		return nil, fmt.Errorf("pipeline: model %s: the vision tower's output width %d is not the decoder's width %d", spec.Text, out, d)
	}
	if n, v := txt.Tokenizer.Len(), dec.Config().VocabSize; n > v {
		return nil, fmt.Errorf("pipeline: the tokenizer of %s has %d ids, more than the decoder's vocabulary of %d", tdir, n, v)
	}
	p, err := c.Load(ctx)
	if err != nil {
		return nil, err
	}
	return &Assistant{Pipeline: p, Decoder: dec, Text: txt, Generation: gen}, nil
}

// generationConfig reads dir's generation_config.json, or HF's defaults when it has none.
func generationConfig(dir string) (generate.Config, error) {
	path := filepath.Join(dir, "generation_config.json")
	b, err := fsutil.ReadFile(path, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return generate.DefaultConfig(), nil
	}
	if err != nil {
		return generate.Config{}, fmt.Errorf("pipeline: %w", err)
	}
	g, err := generate.ParseGenerationConfig(b)
	if err != nil {
		return generate.Config{}, fmt.Errorf("pipeline: %s: %w", path, err)
	}
	return g, nil
}

// Answer is the outcome of [Assistant.Ask].
type Answer struct {
	// Prompt is the rendered conversation; PromptIDs its ids with the vision pads expanded.
	Prompt    string
	PromptIDs []int32
	// ImageTokens and VideoTokens count the pads (the encoder's rows) in PromptIDs.
	ImageTokens, VideoTokens int
	// Result is the generation: ids, text (special tokens skipped), why it stopped.
	generate.Result
	// Encode, Prefill and Decode are the times of the vision encode, the prompt's prefill
	// and the generation steps; TimeToFirst runs from the call to the first streamed text.
	Encode, Prefill, Decode, TimeToFirst time.Duration
	// TokenTimes has, for each generated id in order, the time from the call to the moment
	// it was chosen (and its text, if any, emitted): TokenTimes[0] is the time to the first
	// token whether or not it has text, and the difference of consecutive entries is one
	// decode step with its sampling. Same length as IDs.
	TokenTimes []time.Duration
}

// Ask renders conv with the chat template (generation prompt added), encodes the items
// (images and videos, in the order the conversation's parts name them), places their
// features and DeepStack rows at the pads, prefills the decoder and generates with gen,
// streaming the answer's text to emit (whole characters only; special tokens skipped). The
// context stops the work between kernel tasks and between tokens. It is [Session.Ask] on a
// new session.
func (a *Assistant) Ask(ctx context.Context, conv *chat.Conversation, items []Item, gen generate.Config, emit func(string) error) (*Answer, error) {
	return a.NewSession().Ask(ctx, conv, items, gen, emit)
}

// encodeItems runs the tower once on items of one kind (the reference encodes images and
// videos in separate calls); Result.Items(i, i+1) is item i's features.
func (a *Assistant) encodeItems(ctx context.Context, items []Item) (*Result, error) {
	var b Batch
	for _, it := range items {
		b.Add(it)
	}
	return a.Encode(ctx, &b)
}
