package textjoin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An excerpt in the layout of a released Qwen3-VL tokenizer_config.json.
const releasedTokenizerConfig = `{
  "add_prefix_space": false,
  "added_tokens_decoder": {
    "151652": {"content": "<|vision_start|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "151653": {"content": "<|vision_end|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "151655": {"content": "<|image_pad|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
    "151656": {"content": "<|video_pad|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
  },
  "tokenizer_class": "Qwen2Tokenizer"
}`

func TestParseTokens(t *testing.T) {
	def := DefaultTokens()
	custom := def
	custom.ImagePad = Token{7, "<img>"}
	custom.VideoPad = Token{8, "<vid>"}
	custom.MergeSize = 3
	qwen35 := def
	qwen35.VisionStart.ID, qwen35.VisionEnd.ID, qwen35.ImagePad.ID, qwen35.VideoPad.ID = 248053, 248054, 248056, 248057
	qwen35custom := qwen35
	qwen35custom.ImagePad, qwen35custom.VideoPad, qwen35custom.MergeSize = custom.ImagePad, custom.VideoPad, 3
	if ft, ok := FamilyTokens("qwen3_5"); !ok || ft != qwen35 {
		t.Errorf("FamilyTokens(qwen3_5) = %+v, %v", ft, ok)
	}
	if _, ok := FamilyTokens("llava"); ok {
		t.Error("FamilyTokens(llava): ok")
	}
	tests := []struct {
		name                    string
		config, tokCfg, tokJSON string
		want                    Tokens
	}{
		{"no files: defaults", "", "", "", def},
		{"released layout", `{"image_token_id":151655,"video_token_id":151656,"vision_start_token_id":151652,"vision_end_token_id":151653,"vision_config":{"spatial_merge_size":2}}`, releasedTokenizerConfig, "", def},
		{"config lacks ids and vision_config", `{"model_type":"qwen3_vl"}`, "", "", def},
		// Without ids, a Qwen3.5 config takes its config class's defaults, not Qwen3-VL's.
		{"qwen3_5 without ids", `{"model_type":"qwen3_5"}`, "", "", qwen35},
		{"qwen3_5_moe without ids", `{"model_type":"qwen3_5_moe"}`, "", "", qwen35},
		{"qwen4_exp without ids", `{"model_type":"qwen4_exp"}`, "", "", qwen35},
		{"qwen3_5 with its released ids", `{"model_type":"qwen3_5","image_token_id":248056,"video_token_id":248057,"vision_start_token_id":248053,"vision_end_token_id":248054}`, "", "", qwen35},
		{"qwen3_5 with other ids", `{"model_type":"qwen3_5","image_token_id":7,"video_token_id":8,"vision_config":{"spatial_merge_size":3}}`,
			`{"added_tokens_decoder":{"7":{"content":"<img>"},"8":{"content":"<vid>"}}}`, "", qwen35custom},
		{"unknown model_type: Qwen3-VL's", `{"model_type":"llava"}`, "", "", def},
		{"custom ids, strings from tokenizer_config",
			`{"image_token_id":7,"video_token_id":8,"vision_config":{"spatial_merge_size":3}}`,
			`{"added_tokens_decoder":{"7":{"content":"<img>"},"8":{"content":"<vid>"}}}`, "", custom},
		{"strings from tokenizer.json",
			`{"image_token_id":7,"video_token_id":8,"vision_config":{"spatial_merge_size":3}}`, "",
			`{"added_tokens":[{"id":7,"content":"<img>"},{"id":8,"content":"<vid>"}]}`, custom},
		{"tokenizer_config wins over tokenizer.json",
			`{"image_token_id":7,"video_token_id":8,"vision_config":{"spatial_merge_size":3}}`,
			`{"added_tokens_decoder":{"7":{"content":"<img>"},"8":{"content":"<vid>"}}}`,
			`{"added_tokens":[{"id":7,"content":"<other>"},{"id":8,"content":"<vid2>"}]}`, custom},
	}
	opt := func(s string) []byte {
		if s == "" {
			return nil
		}
		return []byte(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokens(opt(tt.config), opt(tt.tokCfg), opt(tt.tokJSON))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseTokensErrors(t *testing.T) {
	tests := []struct {
		name                    string
		config, tokCfg, tokJSON string
		want                    string
	}{
		{"bad config", `{`, "", "", "config.json"},
		{"negative id", `{"image_token_id":-1}`, "", "", "out of range"},
		{"shared id", `{"image_token_id":151656}`, "", "", "share the token id 151656"},
		{"merge size", `{"vision_config":{"spatial_merge_size":0}}`, "", "", "spatial_merge_size 0"},
		{"bad key", "", `{"added_tokens_decoder":{"x":{"content":"a"}}}`, "", `key "x"`},
		{"key with a leading zero", "", `{"added_tokens_decoder":{"0151655":{"content":"<a>"},"151655":{"content":"<b>"}}}`, "", `key "0151655"`},
		{"key with a sign", "", `{"added_tokens_decoder":{"+151655":{"content":"<a>"}}}`, "", `key "+151655"`},
		{"negative key", "", `{"added_tokens_decoder":{"-1":{"content":"<a>"}}}`, "", `key "-1"`},
		{"shared text", "", `{"added_tokens_decoder":{"151655":{"content":"<|video_pad|>"}}}`, "", "share the token text"},
		{"bad tokenizer.json", "", "", `[]`, "tokenizer.json"},
		{"null config", `null`, "", "", "config.json: null"},
		{"null tokenizer_config", "", " null\n", "", "tokenizer_config.json: null"},
		{"null tokenizer.json", "", "", `null`, "tokenizer.json: null"},
	}
	opt := func(s string) []byte {
		if s == "" {
			return nil
		}
		return []byte(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTokens(opt(tt.config), opt(tt.tokCfg), opt(tt.tokJSON))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadTokens(dir); err == nil {
		t.Fatal("no config.json: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"image_token_id":5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"added_tokens_decoder":{"5":{"content":"<i>"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ImagePad != (Token{5, "<i>"}) || tok.VideoPad != DefaultTokens().VideoPad {
		t.Fatalf("%+v", tok)
	}
}
