package textjoin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"", "plain", "<image>", "<video>", `\<image>`, `\\<video>`, "<<image>>", "a<image>b<video>c",
	chatImage, chatVideo, "<|image_pad|><|image_pad|>", "<|video_pad|>", "<imag", "<image",
	"\xff<image>\x00", "<|vision_start|><image><|vision_end|>", `\<image><image>\`,
}

// FuzzReplaceMarks checks the mark parser on any text: escaping round-trips, and the pads in the
// result are the text's own plus one per unescaped mark.
func FuzzReplaceMarks(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tok := DefaultTokens()
	f.Fuzz(func(t *testing.T, s string) {
		if got := ReplaceMarks(EscapeMarks(s), tok); got != s {
			t.Fatalf("ReplaceMarks(EscapeMarks(%q)) = %q", s, got)
		}
		out := ReplaceMarks(s, tok)
		for _, k := range []struct{ mark, pad string }{{ImageMark, tok.ImagePad.Text}, {VideoMark, tok.VideoPad.Text}} {
			marks := strings.Count(s, k.mark) - strings.Count(s, `\`+k.mark)
			if got, want := strings.Count(out, k.pad), strings.Count(s, k.pad)+marks; got != want {
				t.Fatalf("ReplaceMarks(%q) = %q: %d %s, want %d", s, out, got, k.pad, want)
			}
		}
		if !strings.Contains(s, ImageMark) && !strings.Contains(s, VideoMark) && out != s {
			t.Fatalf("ReplaceMarks(%q) changed a text without marks: %q", s, out)
		}
	})
}

// FuzzExpand expands any prompt with items matching its placeholders and checks the result
// against the spans, the tokenization and the position ids.
func FuzzExpand(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint8(3), uint8(5), uint8(2))
	}
	tok := DefaultTokens()
	f.Fuzz(func(t *testing.T, s string, a, b, c uint8) {
		if len(s) > 1<<12 {
			return
		}
		text := ReplaceMarks(s, tok)
		ni, nv := strings.Count(text, tok.ImagePad.Text), strings.Count(text, tok.VideoPad.Text)
		if ni+nv > 64 {
			return
		}
		m := tok.MergeSize
		images := make([]Grid, ni)
		for i := range images {
			images[i] = Grid{1, m * (1 + int(a+uint8(i))%5), m * (1 + int(b)%7)}
		}
		videos := make([]Video, nv)
		for i := range videos {
			g := Grid{1 + int(c)%3, m * (1 + int(b)%3), m * (1 + int(a+uint8(i))%4)}
			ts := make([]float64, g.T)
			for k := range ts {
				ts[k] = float64(k) * 0.75
			}
			videos[i] = Video{g, ts}
		}
		e, err := Expand(s, images, videos, tok)
		if err != nil {
			t.Fatalf("Expand(%q): %v", s, err)
		}
		want := 0
		for _, g := range images {
			want += g.Tokens(m)
		}
		for _, v := range videos {
			want += v.Grid.Tokens(m)
		}
		got := 0
		for _, sp := range e.Spans {
			if !strings.HasPrefix(e.Text[sp.Byte:], pads(map[Kind]Token{KindImage: tok.ImagePad, KindVideo: tok.VideoPad}[sp.Kind], sp.Pads)) {
				t.Fatalf("span %+v does not start %d pads in %q", sp, sp.Pads, e.Text)
			}
			got += sp.Pads
		}
		if got != want || strings.Count(e.Text, tok.ImagePad.Text)+strings.Count(e.Text, tok.VideoPad.Text) != want {
			t.Fatalf("%d pads in spans, want %d", got, want)
		}
		ids, err := e.Encode(byteEncoder, tok)
		if err != nil {
			t.Fatal(err)
		}
		for i, sp := range e.Spans {
			if sp.Token < 0 || sp.Token+sp.Pads > len(ids) {
				t.Fatalf("span %d: token %d outside %d ids", i, sp.Token, len(ids))
			}
		}
		if len(ids) == 0 {
			return
		}
		vg := make([]Grid, len(videos))
		for i, v := range videos {
			vg[i] = v.Grid
		}
		// Adjacent pads of one kind (bare pads side by side) make one run: an error, as in the
		// reference. Otherwise every position is within [0, len+delta).
		pos, delta, err := RopeIndex(ids, nil, images, vg, tok)
		if err != nil {
			return
		}
		for r := range 3 {
			for _, p := range pos[r] {
				if p < 0 || p >= len(ids)+delta {
					t.Fatalf("position %d outside [0, %d)", p, len(ids)+delta)
				}
			}
		}
	})
}

// FuzzParseTokens feeds any three files to ParseTokens. It must not panic; the Tokens it
// accepts come from JSON objects, validate, are the same on every call (no dependence on map order), and are a fixed
// point: the files they describe parse back to the same Tokens.
func FuzzParseTokens(f *testing.F) {
	f.Add([]byte(`{"image_token_id":151655,"video_token_id":151656,"vision_start_token_id":151652,"vision_end_token_id":151653,"vision_config":{"spatial_merge_size":2}}`),
		[]byte(releasedTokenizerConfig), []byte(nil))
	f.Add([]byte(`{"image_token_id":7,"video_token_id":8,"vision_config":{"spatial_merge_size":3}}`),
		[]byte(`{"added_tokens_decoder":{"7":{"content":"<img>"},"8":{"content":"<vid>"}}}`),
		[]byte(`{"added_tokens":[{"id":7,"content":"<other>"},{"id":8,"content":"<vid2>"}]}`))
	f.Add([]byte(`{"model_type":"qwen3_vl"}`), []byte(nil), []byte(`{"added_tokens":[{"id":151655,"content":"<i>"}]}`))
	f.Add([]byte(`{"image_token_id":-1}`), []byte(`{"added_tokens_decoder":{"x":{"content":"a"}}}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, config, tokCfg, tokJSON []byte) {
		opt := func(b []byte) []byte {
			if len(b) == 0 {
				return nil
			}
			return b
		}
		config, tokCfg, tokJSON = opt(config), opt(tokCfg), opt(tokJSON)
		tok, err := ParseTokens(config, tokCfg, tokJSON)
		for range 3 {
			again, err2 := ParseTokens(config, tokCfg, tokJSON)
			if (err == nil) != (err2 == nil) || again != tok {
				t.Fatalf("ParseTokens is not deterministic: %+v, %v then %+v, %v", tok, err, again, err2)
			}
		}
		if err != nil {
			return
		}
		if err := tok.Validate(); err != nil {
			t.Fatalf("ParseTokens accepted invalid tokens %+v: %v", tok, err)
		}
		for _, b := range [][]byte{config, tokCfg, tokJSON} {
			if trimmed := bytes.TrimSpace(b); b != nil && (len(trimmed) == 0 || trimmed[0] != '{') {
				t.Fatalf("ParseTokens accepted %q, which is not a JSON object", b)
			}
		}
		if tok.MergeSize > 1<<10 {
			t.Fatalf("merge size %d accepted", tok.MergeSize)
		}
		if config == nil && (tok.ImagePad.ID != DefaultImagePadID || tok.VideoPad.ID != DefaultVideoPadID ||
			tok.VisionStart.ID != DefaultVisionStartID || tok.VisionEnd.ID != DefaultVisionEndID || tok.MergeSize != DefaultMergeSize) {
			t.Fatalf("no config.json, yet ids or merge size differ from the defaults: %+v", tok)
		}
		if tokCfg == nil && tokJSON == nil && (tok.ImagePad.Text != DefaultImagePad || tok.VideoPad.Text != DefaultVideoPad ||
			tok.VisionStart.Text != DefaultVisionStart || tok.VisionEnd.Text != DefaultVisionEnd) {
			t.Fatalf("no tokenizer files, yet texts differ from the defaults: %+v", tok)
		}
		cfg := fmt.Sprintf(`{"image_token_id":%d,"video_token_id":%d,"vision_start_token_id":%d,"vision_end_token_id":%d,"vision_config":{"spatial_merge_size":%d}}`,
			tok.ImagePad.ID, tok.VideoPad.ID, tok.VisionStart.ID, tok.VisionEnd.ID, tok.MergeSize)
		decoder := map[string]map[string]string{}
		for _, k := range []Token{tok.VisionStart, tok.VisionEnd, tok.ImagePad, tok.VideoPad} {
			decoder[strconv.Itoa(int(k.ID))] = map[string]string{"content": k.Text}
		}
		tc, err := json.Marshal(map[string]any{"added_tokens_decoder": decoder})
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTokens([]byte(cfg), tc, nil)
		if err != nil || back != tok {
			t.Fatalf("tokens %+v written out parse back as %+v, %v", tok, back, err)
		}
	})
}
