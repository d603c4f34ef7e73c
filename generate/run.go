package generate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/tokenizer"
)

// Step feeds one id to the model (the id just generated) and returns the logits of the
// next position, a row over the vocabulary. Run modifies the row in place (the model may
// reuse it for the next step).
type Step func(ctx context.Context, id int32) ([]float32, error)

// Reason says why generation stopped.
type Reason int

const (
	// ReasonEOS: the last id is one of the config's eos ids.
	ReasonEOS Reason = iota
	// ReasonStop: the text completed one of the config's stop strings.
	ReasonStop
	// ReasonLength: the budget of new tokens (Config.Budget) is used up.
	ReasonLength
	// ReasonCancelled: the context was cancelled between steps (Run returns its error).
	ReasonCancelled
)

func (r Reason) String() string {
	switch r {
	case ReasonEOS:
		return "eos"
	case ReasonStop:
		return "stop"
	case ReasonLength:
		return "length"
	case ReasonCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Result is what Run generated.
type Result struct {
	// IDs are the generated ids, the last one included (the eos id, or the id that
	// completed a stop string), as HF's output holds them.
	IDs []int32
	// Text is the decoded text of IDs with the special tokens skipped
	// (decode(skip_special_tokens=True)); it includes a matched stop string, as HF's does.
	// After a stop (no error) it equals the concatenation of the emitted pieces.
	Text string
	// Reason says why generation stopped; StopString is the matched stop string when
	// Reason is ReasonStop.
	Reason     Reason
	StopString string
	// PromptTokens and GeneratedTokens count the ids (GeneratedTokens == len(IDs)).
	PromptTokens, GeneratedTokens int
}

// Run generates after a prompt whose last position's logits are first (the prefill's).
// Each step processes the row (Processors), picks an id (Sampler), streams the new text
// through a tokenizer.Stream with special tokens skipped (emit is called only with
// complete characters; emit may be nil), checks the stop conditions in the order eos,
// stop string, budget, and if none holds calls step with the id for the next row. The
// context is checked before every step: on cancellation the partial Result is returned
// with the context's error. Ids the tokenizer does not know (a model vocabulary padded
// past the tokenizer's) add no text, as tokenizers' decode drops them.
func Run(ctx context.Context, cfg Config, tok *tokenizer.Tokenizer, prompt []int32, first []float32, step Step, emit func(text string) error) (Result, error) {
	res := Result{PromptTokens: len(prompt)}
	if tok == nil {
		return res, fmt.Errorf("generate: run: no tokenizer")
	}
	vocab := len(first)
	proc, err := NewProcessors(cfg, vocab)
	if err != nil {
		return res, err
	}
	sampler := NewSampler(cfg, vocab)
	stops := NewStopMatcher(tok, cfg.StopStrings)
	for _, id := range prompt {
		stops.Push(id)
	}
	budget := cfg.Budget(len(prompt))
	all := make([]int32, 0, len(prompt)+budget)
	all = append(all, prompt...)
	stream := tok.NewStream(true)
	var text strings.Builder
	logits := first
	send := func(s string) error {
		if s == "" {
			return nil
		}
		text.WriteString(s)
		if emit != nil {
			return emit(s)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			res.Reason = ReasonCancelled
			return finish(res, tok, all[len(prompt):], &text), err
		}
		if len(logits) != vocab {
			return finish(res, tok, all[len(prompt):], &text), fmt.Errorf("generate: run: step %d returned %d logits, the prefill %d", len(all)-len(prompt), len(logits), vocab)
		}
		if err := proc.Apply(logits, all, len(prompt)); err != nil {
			return finish(res, tok, all[len(prompt):], &text), err
		}
		id, err := sampler.Next(logits)
		if err != nil {
			return finish(res, tok, all[len(prompt):], &text), err
		}
		all = append(all, id)
		if _, known := tok.Piece(id); known {
			s, err := stream.Next(id)
			if err != nil {
				return finish(res, tok, all[len(prompt):], &text), err
			}
			if err := send(s); err != nil {
				return finish(res, tok, all[len(prompt):], &text), err
			}
		}
		stopped := true
		switch i := stops.Push(id); {
		case slices.Contains(cfg.EOS, id):
			res.Reason = ReasonEOS
		case i >= 0:
			res.Reason, res.StopString = ReasonStop, cfg.StopStrings[stopIndex(cfg.StopStrings, i)]
		case len(all)-len(prompt) >= budget:
			res.Reason = ReasonLength
		default:
			stopped = false
		}
		if stopped {
			res = finish(res, tok, all[len(prompt):], &text)
			// Flush what the stream held back (text ending in U+FFFD): the final text is
			// decode(ids), whole, as HF returns it.
			if rest, ok := strings.CutPrefix(res.Text, text.String()); ok && rest != "" && emit != nil {
				if err := emit(rest); err != nil {
					return res, err
				}
			}
			return res, nil
		}
		if logits, err = step(ctx, id); err != nil {
			return finish(res, tok, all[len(prompt):], &text), err
		}
	}
}

// stopIndex maps an index among the non-empty stop strings back to the list.
func stopIndex(stops []string, i int) int {
	for j, s := range stops {
		if s == "" {
			continue
		}
		if i == 0 {
			return j
		}
		i--
	}
	return 0
}

// finish fills the ids, counts and text of res.
func finish(res Result, tok *tokenizer.Tokenizer, gen []int32, streamed *strings.Builder) Result {
	res.IDs = slices.Clone(gen)
	res.GeneratedTokens = len(gen)
	known := make([]int32, 0, len(gen))
	for _, id := range gen {
		if _, ok := tok.Piece(id); ok {
			known = append(known, id)
		}
	}
	if s, err := tok.Decode(known, true); err == nil {
		res.Text = s
	} else {
		res.Text = streamed.String()
	}
	return res
}
