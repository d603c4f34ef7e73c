package tokenizer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Specials are the special ids of a tokenizer. Ids that are not defined are -1 (and the
// Has… flag false).
type Specials struct {
	// EOS lists the ids that end generation: generation_config.json's eos_token_id (an int
	// or a list, in file order) when present, else tokenizer_config.json's eos_token.
	// For Qwen3-VL: [151645 <|im_end|>, 151643 <|endoftext|>].
	EOS []int32
	// TokenizerEOS is tokenizer_config.json's eos_token (HF tokenizer.eos_token_id).
	TokenizerEOS    int32
	HasTokenizerEOS bool
	// Pad is tokenizer_config.json's pad_token, else generation_config.json's pad_token_id.
	Pad    int32
	HasPad bool
	// BOS is tokenizer_config.json's bos_token (null for Qwen, so HasBOS is false); Qwen's
	// generation_config bos_token_id is not used here.
	BOS    int32
	HasBOS bool
	// The chat and vision tokens, looked up by their strings (<|im_start|>, <|im_end|>,
	// <|vision_start|>, <|vision_end|>, <|image_pad|>, <|video_pad|>); -1 if absent.
	IMStart, IMEnd, VisionStart, VisionEnd, ImagePad, VideoPad int32
}

func defaultSpecials() Specials {
	return Specials{TokenizerEOS: -1, Pad: -1, BOS: -1, IMStart: -1, IMEnd: -1,
		VisionStart: -1, VisionEnd: -1, ImagePad: -1, VideoPad: -1}
}

func (t *Tokenizer) lookupNamedSpecials() {
	for _, x := range []struct {
		p    *int32
		name string
	}{
		{&t.specials.IMStart, "<|im_start|>"}, {&t.specials.IMEnd, "<|im_end|>"},
		{&t.specials.VisionStart, "<|vision_start|>"}, {&t.specials.VisionEnd, "<|vision_end|>"},
		{&t.specials.ImagePad, "<|image_pad|>"}, {&t.specials.VideoPad, "<|video_pad|>"},
	} {
		if id, ok := t.ID(x.name); ok {
			*x.p = id
		}
	}
}

// tokenConfig is the part of tokenizer_config.json read here.
type tokenConfig struct {
	EOS                json.RawMessage            `json:"eos_token"`
	Pad                json.RawMessage            `json:"pad_token"`
	BOS                json.RawMessage            `json:"bos_token"`
	SplitSpecialTokens bool                       `json:"split_special_tokens"`
	AddedTokensDecoder map[string]json.RawMessage `json:"added_tokens_decoder"`
}

// tokenName reads a token given as a string or as {"content": …}; ok is false for null.
func tokenName(raw json.RawMessage) (string, bool, error) {
	if isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, nil
	}
	var o struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.Content == nil {
		return "", false, fmt.Errorf("not a string or {\"content\": …}")
	}
	return *o.Content, true, nil
}

// configure reads tokenizer_config.json (required) and generation_config.json (gdata nil
// if absent).
func (t *Tokenizer) configure(cpath string, cdata []byte, gpath string, gdata []byte) error {
	fail := func(path, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s", path, fmt.Sprintf(format, args...))
	}
	var c tokenConfig
	if err := json.Unmarshal(cdata, &c); err != nil {
		return fail(cpath, "%v", err)
	}
	// added_tokens_decoder: entries must agree with tokenizer.json; missing ones are added.
	if len(c.AddedTokensDecoder) > 0 {
		keys := make([]int, 0, len(c.AddedTokensDecoder))
		for k := range c.AddedTokensDecoder {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= 2*len(t.pieces)+1024 {
				return fail(cpath, "added_tokens_decoder: bad id %q", k)
			}
			keys = append(keys, n)
		}
		sort.Ints(keys)
		changed := false
		for _, id := range keys {
			var a addedJSON
			if err := json.Unmarshal(c.AddedTokensDecoder[strconv.Itoa(id)], &a); err != nil {
				return fail(cpath, "added_tokens_decoder[%d]: %v", id, err)
			}
			if p, ok := t.Piece(int32(id)); ok {
				if p != a.Content {
					return fail(cpath, "added_tokens_decoder[%d] is %q, tokenizer.json has %q", id, a.Content, p)
				}
				continue
			}
			t.added = append(t.added, addedToken{id: int32(id), content: a.Content, singleWord: a.SingleWord,
				lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special})
			changed = true
		}
		if changed {
			if err := t.rebuild(); err != nil {
				return fail(cpath, "%v", err)
			}
			t.lookupNamedSpecials()
		}
	}
	t.splitSpecial = c.SplitSpecialTokens
	resolve := func(field string, raw json.RawMessage) (int32, bool, error) {
		name, ok, err := tokenName(raw)
		if err != nil {
			return -1, false, fail(cpath, "%s: %v", field, err)
		}
		if !ok {
			return -1, false, nil
		}
		id, ok := t.ID(name)
		if !ok {
			return -1, false, fail(cpath, "%s %q is not in the vocabulary", field, name)
		}
		return id, true, nil
	}
	var err error
	s := &t.specials
	if s.TokenizerEOS, s.HasTokenizerEOS, err = resolve("eos_token", c.EOS); err != nil {
		return err
	}
	if s.Pad, s.HasPad, err = resolve("pad_token", c.Pad); err != nil {
		return err
	}
	if s.BOS, s.HasBOS, err = resolve("bos_token", c.BOS); err != nil {
		return err
	}
	s.EOS = nil
	if s.HasTokenizerEOS {
		s.EOS = []int32{s.TokenizerEOS}
	}
	if gdata == nil {
		return nil
	}
	var g struct {
		EOS json.RawMessage `json:"eos_token_id"`
		Pad *int64          `json:"pad_token_id"`
	}
	if err := json.Unmarshal(gdata, &g); err != nil {
		return fail(gpath, "%v", err)
	}
	if !isNull(g.EOS) {
		var list []int64
		var one int64
		if err := json.Unmarshal(g.EOS, &one); err == nil {
			list = []int64{one}
		} else if err := json.Unmarshal(g.EOS, &list); err != nil {
			return fail(gpath, "eos_token_id: not an int or a list of ints")
		}
		s.EOS = s.EOS[:0]
		for _, id := range list {
			if id < 0 || id > int64(len(t.known)) || !t.has(int32(id)) {
				return fail(gpath, "eos_token_id %d is not in the vocabulary", id)
			}
			s.EOS = append(s.EOS, int32(id))
		}
	}
	if !s.HasPad && g.Pad != nil {
		id := *g.Pad
		if id < 0 || id > int64(len(t.known)) || !t.has(int32(id)) {
			return fail(gpath, "pad_token_id %d is not in the vocabulary", id)
		}
		s.Pad, s.HasPad = int32(id), true
	}
	return nil
}
