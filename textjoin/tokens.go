package textjoin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// Documented defaults: Qwen2-VL/Qwen2.5-VL/Qwen3-VL's vision tokens and merge size. They are used
// only when a checkpoint's files lack the value (the Qwen3VLConfig class defaults are the same).
const (
	DefaultVisionStartID = 151652
	DefaultVisionEndID   = 151653
	DefaultImagePadID    = 151655
	DefaultVideoPadID    = 151656
	DefaultMergeSize     = 2

	DefaultVisionStart = "<|vision_start|>"
	DefaultVisionEnd   = "<|vision_end|>"
	DefaultImagePad    = "<|image_pad|>"
	DefaultVideoPad    = "<|video_pad|>"
)

// Token is one special token: its id in the vocabulary and its text in a prompt.
type Token struct {
	ID   int32  `json:"id"`
	Text string `json:"text"`
}

// Tokens are the vision tokens of a checkpoint and the spatial merge size m (a merged grid is
// (t, h/m, w/m); an item of patch grid (t, h, w) takes t·h·w/m² pad tokens).
type Tokens struct {
	VisionStart Token `json:"vision_start"`
	VisionEnd   Token `json:"vision_end"`
	ImagePad    Token `json:"image_pad"`
	VideoPad    Token `json:"video_pad"`
	MergeSize   int   `json:"merge_size"`
}

// DefaultTokens returns the documented defaults (every released Qwen3-VL checkpoint uses them).
func DefaultTokens() Tokens {
	return Tokens{
		VisionStart: Token{DefaultVisionStartID, DefaultVisionStart},
		VisionEnd:   Token{DefaultVisionEndID, DefaultVisionEnd},
		ImagePad:    Token{DefaultImagePadID, DefaultImagePad},
		VideoPad:    Token{DefaultVideoPadID, DefaultVideoPad},
		MergeSize:   DefaultMergeSize,
	}
}

// familyIDs are the vision-token ids the pinned transformers' config classes default to, by
// model_type: vision_start, vision_end, image_pad, video_pad (Qwen3VLConfig, Qwen3VLMoeConfig;
// Qwen3_5Config, Qwen3_5MoeConfig, Qwen4ExpConfig; CohereCompassConfig).
var familyIDs = map[string][4]int32{
	"qwen3_vl":       {151652, 151653, 151655, 151656},
	"qwen3_vl_moe":   {151652, 151653, 151655, 151656},
	"qwen3_5":        {248053, 248054, 248056, 248057},
	"qwen3_5_moe":    {248053, 248054, 248056, 248057},
	"qwen4_exp":      {248053, 248054, 248056, 248057},
	"cohere_compass": {255028, 255029, 255031, 255032},
}

// FamilyTokens returns the tokens a checkpoint of model_type modelType has when its
// config.json names none: the ids its config class defaults to, with the default texts and
// merge size. ok is false for a model_type it does not know.
func FamilyTokens(modelType string) (t Tokens, ok bool) {
	ids, ok := familyIDs[modelType]
	if !ok {
		return Tokens{}, false
	}
	t = DefaultTokens()
	t.VisionStart.ID, t.VisionEnd.ID, t.ImagePad.ID, t.VideoPad.ID = ids[0], ids[1], ids[2], ids[3]
	return t, true
}

// Validate checks that the ids are distinct and non-negative, the strings distinct and
// non-empty, and the merge size positive.
func (t Tokens) Validate() error {
	all := []struct {
		name string
		tok  Token
	}{{"vision_start", t.VisionStart}, {"vision_end", t.VisionEnd}, {"image_pad", t.ImagePad}, {"video_pad", t.VideoPad}}
	for i, a := range all {
		if a.tok.ID < 0 {
			return fmt.Errorf("textjoin: %s token id %d is negative", a.name, a.tok.ID)
		}
		if a.tok.Text == "" {
			return fmt.Errorf("textjoin: %s token (id %d) has no text", a.name, a.tok.ID)
		}
		for _, b := range all[:i] {
			if a.tok.ID == b.tok.ID {
				return fmt.Errorf("textjoin: %s and %s share the token id %d", b.name, a.name, a.tok.ID)
			}
			if a.tok.Text == b.tok.Text {
				return fmt.Errorf("textjoin: %s and %s share the token text %q", b.name, a.name, a.tok.Text)
			}
		}
	}
	if t.MergeSize < 1 {
		return fmt.Errorf("textjoin: spatial merge size %d is below 1", t.MergeSize)
	}
	return nil
}

// Bounds of the files LoadTokens reads (regular files only, through fsutil.ReadFile): a config
// and tokenizer_config.json are a few KiB, tokenizer.json about 11 MiB in the releases (512 MiB
// is tokenizer.MaxFileSize, the bound of the tokenizer's own read).
const (
	maxConfigBytes    = 16 << 20
	maxTokenizerBytes = 512 << 20
)

// LoadTokens reads a checkpoint folder: config.json (required: a full Qwen3-VL config with the
// token ids at the top level and vision_config.spatial_merge_size) and, when present,
// tokenizer_config.json (added_tokens_decoder) and tokenizer.json (added_tokens) for the token
// strings. Values a file lacks take the documented defaults.
func LoadTokens(dir string) (Tokens, error) {
	config, err := fsutil.ReadFile(filepath.Join(dir, "config.json"), maxConfigBytes)
	if err != nil {
		return Tokens{}, fmt.Errorf("textjoin: %w", err)
	}
	optional := func(name string) ([]byte, error) {
		b, err := fsutil.ReadFile(filepath.Join(dir, name), maxTokenizerBytes)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("textjoin: %w", err)
		}
		return b, nil
	}
	tokCfg, err := optional("tokenizer_config.json")
	if err != nil {
		return Tokens{}, err
	}
	tokJSON, err := optional("tokenizer.json")
	if err != nil {
		return Tokens{}, err
	}
	t, err := ParseTokens(config, tokCfg, tokJSON)
	if err != nil {
		return Tokens{}, fmt.Errorf("%w (in %s)", err, dir)
	}
	return t, nil
}

// ParseTokens builds Tokens from the contents of config.json, tokenizer_config.json and
// tokenizer.json; any of them may be nil. Ids come from config.json (top-level image_token_id,
// video_token_id, vision_start_token_id, vision_end_token_id; the merge size from
// vision_config.spatial_merge_size); an id it leaves out is its model_type's default
// (FamilyTokens: 248053… for qwen3_5, qwen3_5_moe and qwen4_exp), else Qwen3-VL's. Each id's
// text comes from tokenizer_config.json's added_tokens_decoder, else tokenizer.json's
// added_tokens, else the default text.
func ParseTokens(config, tokenizerConfig, tokenizerJSON []byte) (Tokens, error) {
	t := DefaultTokens()
	if config != nil {
		var c struct {
			ModelType          string `json:"model_type"`
			ImageTokenID       *int64 `json:"image_token_id"`
			VideoTokenID       *int64 `json:"video_token_id"`
			VisionStartTokenID *int64 `json:"vision_start_token_id"`
			VisionEndTokenID   *int64 `json:"vision_end_token_id"`
			VisionConfig       *struct {
				SpatialMergeSize *int64 `json:"spatial_merge_size"`
			} `json:"vision_config"`
		}
		if err := unmarshalObject(config, &c); err != nil {
			return Tokens{}, fmt.Errorf("textjoin: config.json: %w", err)
		}
		if ft, ok := FamilyTokens(c.ModelType); ok {
			t = ft
		}
		set := func(dst *int32, v *int64, name string) error {
			if v == nil {
				return nil
			}
			if *v < 0 || *v > 1<<31-1 {
				return fmt.Errorf("textjoin: config.json: %s %d is out of range", name, *v)
			}
			*dst = int32(*v)
			return nil
		}
		for _, f := range []struct {
			dst  *int32
			v    *int64
			name string
		}{
			{&t.ImagePad.ID, c.ImageTokenID, "image_token_id"},
			{&t.VideoPad.ID, c.VideoTokenID, "video_token_id"},
			{&t.VisionStart.ID, c.VisionStartTokenID, "vision_start_token_id"},
			{&t.VisionEnd.ID, c.VisionEndTokenID, "vision_end_token_id"},
		} {
			if err := set(f.dst, f.v, f.name); err != nil {
				return Tokens{}, err
			}
		}
		if c.VisionConfig != nil && c.VisionConfig.SpatialMergeSize != nil {
			m := *c.VisionConfig.SpatialMergeSize
			if m < 1 || m > 1<<10 {
				return Tokens{}, fmt.Errorf("textjoin: config.json: vision_config.spatial_merge_size %d is out of range", m)
			}
			t.MergeSize = int(m)
		}
	}
	texts := map[int32]string{}
	if tokenizerJSON != nil {
		var tj struct {
			AddedTokens []struct {
				ID      int64  `json:"id"`
				Content string `json:"content"`
			} `json:"added_tokens"`
		}
		if err := unmarshalObject(tokenizerJSON, &tj); err != nil {
			return Tokens{}, fmt.Errorf("textjoin: tokenizer.json: %w", err)
		}
		for _, a := range tj.AddedTokens {
			if a.ID >= 0 && a.ID <= 1<<31-1 {
				texts[int32(a.ID)] = a.Content
			}
		}
	}
	if tokenizerConfig != nil {
		var tc struct {
			AddedTokensDecoder map[string]struct {
				Content string `json:"content"`
			} `json:"added_tokens_decoder"`
		}
		if err := unmarshalObject(tokenizerConfig, &tc); err != nil {
			return Tokens{}, fmt.Errorf("textjoin: tokenizer_config.json: %w", err)
		}
		for k, v := range tc.AddedTokensDecoder {
			// Only the canonical spelling: "07" or "+7" would name id 7 a second time, and
			// which of two such entries won would depend on map order.
			id, err := strconv.ParseInt(k, 10, 32)
			if err != nil || id < 0 || strconv.FormatInt(id, 10) != k {
				return Tokens{}, fmt.Errorf("textjoin: tokenizer_config.json: added_tokens_decoder key %q is not a token id", k)
			}
			texts[int32(id)] = v.Content // tokenizer_config.json wins over tokenizer.json
		}
	}
	for _, tok := range []*Token{&t.VisionStart, &t.VisionEnd, &t.ImagePad, &t.VideoPad} {
		if s, ok := texts[tok.ID]; ok {
			tok.Text = s
		}
	}
	if err := t.Validate(); err != nil {
		return Tokens{}, err
	}
	return t, nil
}

// unmarshalObject decodes b, which must hold a JSON object, into v. json.Unmarshal alone takes
// null for an empty object.
func unmarshalObject(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return errors.New("null is not a JSON object")
	}
	return nil
}
