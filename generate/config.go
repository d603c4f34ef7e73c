package generate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Config holds the generation settings. The zero value is not HF's default: start from
// DefaultConfig or ParseGenerationConfig.
type Config struct {
	// DoSample selects sampling; false is greedy (argmax). Temperature 0 is greedy as well
	// (HF refuses temperature 0 with do_sample; here it means greedy, as in the OpenAI API).
	DoSample bool
	// Temperature divides the logits when sampling (1 leaves them; must be ≥ 0).
	Temperature float64
	// TopK keeps the TopK largest logits and every logit tied with the TopK-th (0: off).
	TopK int
	// TopP keeps the smallest set of largest-probability tokens whose mass exceeds TopP, in
	// [0, 1] as HF accepts it (1: off; 0 keeps the single most likely token).
	TopP float64
	// MinP removes the tokens whose probability is below MinP times the top probability,
	// in [0, 1] (0: off).
	MinP float64
	// RepetitionPenalty (> 0; 1: off) divides the positive and multiplies the negative
	// logits of every id seen so far, prompt included, as HF's RepetitionPenaltyLogitsProcessor.
	RepetitionPenalty float64
	// PresencePenalty and FrequencyPenalty are not in HF transformers 5.24.0: they follow
	// the OpenAI / vLLM definition, logit -= presence·[count>0] + frequency·count, where
	// count is the number of times the id was generated (the prompt is not counted). In
	// [-2, 2]; 0: off. Applied after the repetition penalty, before temperature, as vLLM does.
	PresencePenalty  float64
	FrequencyPenalty float64
	// MaxNewTokens bounds the generated ids (0: unset). MaxLength bounds prompt + generated
	// (0: unset). See Budget.
	MaxNewTokens int
	MaxLength    int
	// EOS lists the ids that end generation (generation_config.json's eos_token_id).
	EOS []int32
	// StopStrings end generation once one of them appears in the text, as HF's
	// StopStringCriteria decides (see StopMatcher).
	StopStrings []string
	// Seed seeds the sampler.
	Seed uint64
}

// DefaultConfig returns HF's defaults (GenerationConfig._get_default_generation_params):
// greedy, temperature 1, top_k 50, top_p 1, no min_p, repetition_penalty 1, max_length 20
// with no max_new_tokens (so 20 new tokens, see Budget), no eos ids, no stop strings.
func DefaultConfig() Config {
	return Config{Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1}
}

// Greedy reports whether the next token is the argmax (no sampling).
func (c *Config) Greedy() bool { return !c.DoSample || c.Temperature == 0 }

// Budget returns the number of new tokens a prompt of promptLen ids may get, as HF
// derives it: max_new_tokens when set, else max_length minus the prompt (at least 1: HF
// checks the length only after a token is generated), else HF's default of 20 new tokens
// (max_length 20 counted from the end of the prompt).
func (c *Config) Budget(promptLen int) int {
	switch {
	case c.MaxNewTokens > 0:
		return c.MaxNewTokens
	case c.MaxLength > 0:
		return max(1, c.MaxLength-promptLen)
	default:
		return 20
	}
}

// Validate reports the first setting out of range.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("generate: config: "+format, args...)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !finite(c.Temperature) || c.Temperature < 0:
		return bad("temperature %v must be ≥ 0 (0 is greedy)", c.Temperature)
	case c.TopK < 0:
		return bad("top_k %d must be ≥ 0 (0 is off)", c.TopK)
	case !finite(c.TopP) || c.TopP < 0 || c.TopP > 1:
		return bad("top_p %v must be in [0, 1] (1 is off)", c.TopP)
	case !finite(c.MinP) || c.MinP < 0 || c.MinP > 1:
		return bad("min_p %v must be in [0, 1] (0 is off)", c.MinP)
	case !finite(c.RepetitionPenalty) || c.RepetitionPenalty <= 0:
		return bad("repetition_penalty %v must be > 0 (1 is off)", c.RepetitionPenalty)
	case !finite(c.PresencePenalty) || c.PresencePenalty < -2 || c.PresencePenalty > 2:
		return bad("presence_penalty %v must be in [-2, 2] (0 is off)", c.PresencePenalty)
	case !finite(c.FrequencyPenalty) || c.FrequencyPenalty < -2 || c.FrequencyPenalty > 2:
		return bad("frequency_penalty %v must be in [-2, 2] (0 is off)", c.FrequencyPenalty)
	case c.MaxNewTokens < 0:
		return bad("max_new_tokens %d must be ≥ 0 (0 is unset)", c.MaxNewTokens)
	case c.MaxLength < 0:
		return bad("max_length %d must be ≥ 0 (0 is unset)", c.MaxLength)
	}
	for _, id := range c.EOS {
		if id < 0 {
			return bad("eos id %d is negative", id)
		}
	}
	for i, s := range c.StopStrings {
		if s == "" {
			return bad("stop string %d is empty", i)
		}
	}
	return nil
}

// genJSON is the part of generation_config.json read here; a key absent or null keeps
// HF's default.
type genJSON struct {
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopK              json.RawMessage `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	MaxNewTokens      json.RawMessage `json:"max_new_tokens"`
	MaxLength         json.RawMessage `json:"max_length"`
	EOS               json.RawMessage `json:"eos_token_id"`
	StopStrings       json.RawMessage `json:"stop_strings"`
}

// ParseGenerationConfig reads a generation_config.json over DefaultConfig: do_sample,
// temperature, top_k, top_p, min_p, repetition_penalty, max_new_tokens, max_length,
// eos_token_id (an int or a list) and stop_strings (a string or a list); other keys are
// ignored (HF keeps them as custom entries). The result is validated.
func ParseGenerationConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Config{}, errors.New("generate: generation_config.json: not a JSON object")
	}
	var g genJSON
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&g); err != nil {
		return Config{}, fmt.Errorf("generate: generation_config.json: %v", err)
	}
	if d.More() {
		return Config{}, errors.New("generate: generation_config.json: data after the object")
	}
	fail := func(key string, err error) (Config, error) {
		return Config{}, fmt.Errorf("generate: generation_config.json: %s: %v", key, err)
	}
	set := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	if g.DoSample != nil {
		c.DoSample = *g.DoSample
	}
	set(&c.Temperature, g.Temperature)
	set(&c.TopP, g.TopP)
	set(&c.MinP, g.MinP)
	set(&c.RepetitionPenalty, g.RepetitionPenalty)
	var err error
	if c.TopK, err = intKey(g.TopK, c.TopK); err != nil {
		return fail("top_k", err)
	}
	if c.MaxNewTokens, err = intKey(g.MaxNewTokens, c.MaxNewTokens); err != nil {
		return fail("max_new_tokens", err)
	}
	if c.MaxLength, err = intKey(g.MaxLength, c.MaxLength); err != nil {
		return fail("max_length", err)
	}
	if !isNull(g.EOS) {
		var one int64
		var list []int64
		if err := json.Unmarshal(g.EOS, &one); err == nil {
			list = []int64{one}
		} else if err := json.Unmarshal(g.EOS, &list); err != nil {
			return fail("eos_token_id", errors.New("not an int or a list of ints"))
		}
		for _, id := range list {
			if id < 0 || id > math.MaxInt32 {
				return fail("eos_token_id", fmt.Errorf("%d is not a token id", id))
			}
			c.EOS = append(c.EOS, int32(id))
		}
	}
	if !isNull(g.StopStrings) {
		var one string
		if err := json.Unmarshal(g.StopStrings, &one); err == nil {
			c.StopStrings = []string{one}
		} else if err := json.Unmarshal(g.StopStrings, &c.StopStrings); err != nil {
			return fail("stop_strings", errors.New("not a string or a list of strings"))
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("generate: generation_config.json: %v", err)
	}
	return c, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// intKey reads an integer key (JSON null or absent keeps def).
func intKey(raw json.RawMessage, def int) (int, error) {
	if isNull(raw) {
		return def, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%s is not an integer", raw)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int(n), nil
}
